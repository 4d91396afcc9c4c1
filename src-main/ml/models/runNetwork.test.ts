/**
 * Loading a run's network from a checkpoint file alone (no database): in this thread and in the
 * network worker thread, the same rows as applying the saved weights by hand; clear errors for a
 * checkpoint without a usable head, with nothing left allocated.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { initBackend } from '../backend'
import { decodeImageU8, normalize, toBatch } from '../data/decode'
import { writeCheckpoint } from '../train/checkpoints'
import { toPlain } from '../train/model'
import { evalTransform } from '../train/transforms'
import { loadBackbone } from './backbones'
import { EmbeddingHead, poolFeatures } from './head'
import { loadNetworkInWorker } from './networkRunner'
import { loadNetwork, type NetworkSpec } from './runNetwork'

const here = dirname(fileURLToPath(import.meta.url))
const CHAR = resolve(
  here,
  '../../../../shared/datasets/omniglot-background-small/Balinese__character01'
)
const backbone = { kind: 'small-cnn', inputSize: 32 } as const
const DIM = 8

let dir: string
let images: string[]
let spec: NetworkSpec

beforeAll(async () => {
  await initBackend()
  dir = mkdtempSync(join(tmpdir(), 'hist-run-network-'))
  images = readdirSync(CHAR)
    .sort()
    .slice(0, 5)
    .map((f) => join(CHAR, f))
  // A head unlike the one the loader would make from the seed, so that loading it shows.
  const bb = await loadBackbone(backbone, { modelsDir: dir, seed: 3 })
  const head = new EmbeddingHead(bb.featureChannels, DIM, 99)
  writeCheckpoint(join(dir, 'best.ckpt'), {
    meta: {},
    sections: { head: await toPlain(head.getWeights()) }
  })
  writeCheckpoint(join(dir, 'headless.ckpt'), {
    meta: {},
    sections: { backbone: [] }
  })
  writeCheckpoint(join(dir, 'wrong.ckpt'), {
    meta: {},
    sections: {
      head: [{ name: 'head/weight', shape: [2, 2], data: new Float32Array(4) }]
    }
  })
  head.dispose()
  bb.dispose()
  spec = {
    backbone,
    seed: 3,
    embeddingSize: DIM,
    checkpointPath: join(dir, 'best.ckpt'),
    modelsDir: dir
  }
})

afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** The rows computed by hand: backbone (seed 3), the saved head (seed 99), L2 rows. */
async function byHand(paths: string[]): Promise<Float32Array> {
  const bb = await loadBackbone(backbone, { modelsDir: dir, seed: 3 })
  bb.setBnFrozen(true)
  const head = new EmbeddingHead(bb.featureChannels, DIM, 99)
  const mode = evalTransform(backbone)
  const px = await Promise.all(paths.map((p) => decodeImageU8(p, 32, { mode })))
  const e = tf.tidy(() => {
    const x = normalize(toBatch(px, 32), bb.mean, bb.std)
    const y = head.apply(poolFeatures(bb.apply(x, false)))
    return tf.div(y, tf.norm(y, 2, 1, true))
  })
  const out = (await e.data()) as Float32Array
  e.dispose()
  head.dispose()
  bb.dispose()
  return out
}

const maxDiff = (a: Float32Array, b: Float32Array): number =>
  a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0)

describe('loadNetwork (in this thread)', () => {
  it('embeds with the checkpoint head; dispose frees every tensor', async () => {
    const before = tf.memory().numTensors
    const net = await loadNetwork(spec)
    const rows = await net.embed(images)
    expect(net.dim).toBe(DIM)
    expect(rows).toHaveLength(images.length * DIM)
    expect(maxDiff(rows, await byHand(images))).toBeLessThan(1e-5)
    net.dispose()
    expect(tf.memory().numTensors).toBe(before)
    await expect(net.embed(images)).rejects.toThrow(/disposed/)
  })

  it('names a checkpoint without a head, or with a head of the wrong shape; nothing leaks', async () => {
    const before = tf.memory().numTensors
    await expect(
      loadNetwork({ ...spec, checkpointPath: join(dir, 'headless.ckpt') }, { label: 'H of run 4' })
    ).rejects.toThrow('checkpoint H of run 4 has no embedding head')
    await expect(
      loadNetwork({ ...spec, checkpointPath: join(dir, 'wrong.ckpt') })
    ).rejects.toThrow()
    expect(tf.memory().numTensors).toBe(before)
  })
})

describe('loadNetworkInWorker', () => {
  it('gives the same rows as by hand; takes paths only; a failed batch rejects; disposed, it refuses', async () => {
    const before = tf.memory().numTensors
    const net = await loadNetworkInWorker(spec)
    try {
      expect(net.dim).toBe(DIM)
      const rows = await net.embed(images)
      expect(tf.memory().numTensors).toBe(before)
      expect(maxDiff(rows, await byHand(images))).toBeLessThan(1e-5)
      await expect(net.embed([Buffer.from('x')])).rejects.toThrow(/image paths only/)
      await expect(net.embed([join(dir, 'missing.png')])).rejects.toThrow()
    } finally {
      net.dispose()
    }
    await expect(net.embed(images)).rejects.toThrow(/disposed/)
  })

  it('passes a load error across', async () => {
    await expect(
      loadNetworkInWorker({ ...spec, checkpointPath: join(dir, 'headless.ckpt') }, 'H of run 4')
    ).rejects.toThrow('checkpoint H of run 4 has no embedding head')
  })
})
