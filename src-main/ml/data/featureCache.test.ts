import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import sharp from 'sharp'
import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { initBackend } from '../backend'
import { loadBackbone, type Backbone } from '../models/backbones'
import { createRng } from '../util/rng'
import { embedImages } from './embed'
import { createEmbedPool } from './embedPool'
import { extractFeatures, featureFilePath, featureKey } from './featureCache'

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hist-features-'))
const imgDir = path.join(tmp, 'images')
const cacheDir = path.join(tmp, 'cache')
const spec = { kind: 'small-cnn' as const, inputSize: 32 }
let items: { path: string }[] = []
let bb: Backbone

async function writeImage(p: string, seed: number): Promise<void> {
  const rng = createRng(seed)
  const w = 20 + rng.int(30)
  const h = 20 + rng.int(30)
  const px = Buffer.from(Array.from({ length: w * h }, () => rng.int(256)))
  fs.writeFileSync(
    p,
    await sharp(px, { raw: { width: w, height: h, channels: 1 } })
      .png()
      .toBuffer()
  )
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]))
  return m
}

/** The same backbone, but any forward pass fails: proves a result came from disk. */
function noForward(b: Backbone): Backbone {
  const w = Object.create(b) as Backbone
  w.apply = () => {
    throw new Error('forward pass not expected')
  }
  return w
}

beforeAll(async () => {
  await initBackend({ only: ['wasm'] })
  fs.mkdirSync(imgDir, { recursive: true })
  for (let i = 0; i < 40; i++) await writeImage(path.join(imgDir, `img${i}.png`), i)
  items = Array.from({ length: 40 }, (_, i) => ({ path: path.join(imgDir, `img${i}.png`) }))
  bb = await loadBackbone(spec, { modelsDir: tmp })
})

afterAll(() => {
  bb.dispose()
  fs.rmSync(tmp, { recursive: true, force: true })
})

describe('extractFeatures', () => {
  it('computes pooled features, stores them, and loads them from disk on the second call', async () => {
    const progress: number[] = []
    const first = await extractFeatures(bb, items, {
      cacheDir,
      cacheKey: 'ds1/train',
      batchSize: 16,
      onProgress: (d) => progress.push(d)
    })
    expect(first.dim).toBe(128)
    expect(first.features.length).toBe(40 * 128)
    expect(progress).toEqual([16, 32, 40])
    const direct = await embedImages(
      bb,
      items.map((i) => i.path),
      'test',
      { batchSize: 7 }
    )
    expect(maxDiff(first.features, direct)).toBeLessThan(1e-5)
    const file = featureFilePath(cacheDir, 'ds1/train', featureKey(bb, items, 'test'))
    expect(fs.existsSync(file)).toBe(true)
    expect(fs.statSync(file).size).toBe(80 + 40 * 128 * 4)
    const before = tf.memory().numTensors
    const second = await extractFeatures(noForward(bb), items, { cacheDir, cacheKey: 'ds1/train' })
    expect(Array.from(second.features)).toEqual(Array.from(first.features))
    expect(tf.memory().numTensors).toBe(before)
  })

  it('detects corrupt or truncated cache files and recomputes', async () => {
    const file = featureFilePath(cacheDir, 'ds1/train', featureKey(bb, items, 'test'))
    const good = fs.readFileSync(file)
    const flipped = Buffer.from(good)
    flipped[200] ^= 0x40
    fs.writeFileSync(file, flipped)
    await expect(
      extractFeatures(noForward(bb), items, { cacheDir, cacheKey: 'ds1/train' })
    ).rejects.toThrow(/forward pass not expected/)
    const again = await extractFeatures(bb, items, { cacheDir, cacheKey: 'ds1/train' })
    expect(fs.readFileSync(file).equals(good)).toBe(true)
    fs.writeFileSync(file, good.subarray(0, good.length - 4))
    const third = await extractFeatures(bb, items, { cacheDir, cacheKey: 'ds1/train' })
    expect(Array.from(third.features)).toEqual(Array.from(again.features))
  })

  it('keys the cache on the items and the transform, and drops the stale file', async () => {
    const oldFile = featureFilePath(cacheDir, 'ds1/train', featureKey(bb, items, 'test'))
    const cover = await extractFeatures(bb, items, {
      cacheDir,
      cacheKey: 'ds1/cover',
      mode: 'cover'
    })
    expect(featureKey(bb, items, 'cover')).not.toBe(featureKey(bb, items, 'test'))
    expect(cover.features.length).toBe(40 * 128)
    await writeImage(items[3].path, 1000)
    fs.utimesSync(items[3].path, new Date(), new Date(Date.now() + 5000))
    const changed = await extractFeatures(bb, items, { cacheDir, cacheKey: 'ds1/train' })
    expect(fs.existsSync(oldFile)).toBe(false)
    expect(
      fs.existsSync(featureFilePath(cacheDir, 'ds1/train', featureKey(bb, items, 'test')))
    ).toBe(true)
    expect(changed.features.length).toBe(40 * 128)
  })

  it('keys a fine-tuned backbone on its weights, not only its name', async () => {
    const other = await loadBackbone(spec, { modelsDir: tmp, seed: 1 })
    const k1 = featureKey(other, items, 'test')
    other.trainableVariables() // hands the weights out for training: no longer pristine
    const w = other.getWeights()
    other.setWeights({ ...w, 'small-cnn/conv1/kernel': tf.mul(w['small-cnn/conv1/kernel'], 2) })
    expect(featureKey(other, items, 'test')).not.toBe(k1)
    tf.dispose(Object.values(w))
    other.dispose()
  })
})

describe('embedding worker pool', () => {
  it('two workers give the same features as one thread, in order, with progress', async () => {
    const pool = await createEmbedPool({ workers: 2, spec, modelsDir: tmp, batchSize: 8 })
    try {
      expect(pool.dim).toBe(128)
      const paths = items.map((i) => i.path)
      const seen: number[] = []
      const out = await pool.features(paths, 'cover', { onProgress: (d, t) => seen.push(d / t) })
      const ref = await embedImages(bb, paths, 'cover')
      expect(out.dim).toBe(128)
      expect(maxDiff(out.features, ref)).toBeLessThan(1e-5)
      expect(seen[seen.length - 1]).toBe(1)
      await expect(pool.features([path.join(tmp, 'missing.png')], 'test')).rejects.toThrow(
        /cannot decode/
      )
    } finally {
      await pool.close()
    }
  })

  it('is used by extractFeatures when asked for workers, with identical results', async () => {
    const viaPool = await extractFeatures(bb, items, {
      cacheDir: path.join(tmp, 'pool-cache'),
      cacheKey: 'p',
      workers: 2
    })
    const inProcess = await embedImages(
      bb,
      items.map((i) => i.path),
      'test'
    )
    expect(maxDiff(viaPool.features, inProcess)).toBeLessThan(1e-5)
  })

  it('gives workers the seed of a randomly initialised backbone, and keys the cache on it', async () => {
    const seeded = await loadBackbone(spec, { modelsDir: tmp, seed: 7 })
    try {
      expect(featureKey(seeded, items, 'test')).not.toBe(featureKey(bb, items, 'test'))
      const viaPool = await extractFeatures(seeded, items, {
        cacheDir: path.join(tmp, 'seeded-cache'),
        cacheKey: 's',
        workers: 2
      })
      const inProcess = await embedImages(
        seeded,
        items.map((i) => i.path),
        'test'
      )
      expect(maxDiff(viaPool.features, inProcess)).toBeLessThan(1e-5)
    } finally {
      seeded.dispose()
    }
  })
})
