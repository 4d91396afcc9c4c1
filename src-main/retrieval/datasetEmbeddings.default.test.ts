/**
 * loadDatasetEmbeddings with its own loaders (nothing injected): a run's train images are
 * embedded in a worker thread (no model loaded in this thread), and a frozen run's come from
 * the trainer's feature cache (the head applied to cached backbone features) when it is there;
 * both agree with embedding the images in-process.
 */
import { renameSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { closeContext } from '../app/context'
import { extractFeatures } from '../ml/data/featureCache'
import { loadBackbone } from '../ml/models/backbones'
import { evalTransform } from '../ml/train/transforms'
import { RunsRepo } from '../runs/repo'
import { loadDatasetEmbeddings, META_FILE, type DatasetEmbeddings } from './datasetEmbeddings'
import { makeEmbeddingFixture, type EmbeddingFixture } from './datasetEmbeddings.testutil'
import { runDirOf } from './galleryIo'

const calls = vi.hoisted(() => ({ loadRunModel: 0, worker: 0 }))
vi.mock('../runs/workerModel', async (importOriginal) => {
  const mod = await importOriginal<typeof import('../runs/workerModel')>()
  return {
    ...mod,
    loadRunModelInWorker: (...args: Parameters<typeof mod.loadRunModelInWorker>) => {
      calls.worker++
      return mod.loadRunModelInWorker(...args)
    }
  }
})
vi.mock('../runs/inference', async (importOriginal) => {
  const mod = await importOriginal<typeof import('../runs/inference')>()
  return {
    ...mod,
    loadRunModel: (...args: Parameters<typeof mod.loadRunModel>) => {
      calls.loadRunModel++
      return mod.loadRunModel(...args)
    }
  }
})

let f: EmbeddingFixture
let inProcess: Float32Array
const dropCache = (): void => rmSync(join(runDirOf(f.ctx, f.runId), META_FILE))
const expectTrainRows = (e: DatasetEmbeddings): void => {
  expect(e.imageIds.length).toBe(18)
  for (let i = 0; i < inProcess.length; i++) expect(e.data[i]).toBeCloseTo(inProcess[i], 4)
}

beforeAll(async () => {
  f = await makeEmbeddingFixture()
  const { loadRunModel } = await import('../runs/inference')
  const m = await loadRunModel(f.ctx, f.runId)
  inProcess = await m.embed(f.train.map((t) => t.file))
  m.dispose()
}, 120_000)

afterAll(() => {
  closeContext(f.ctx)
  rmSync(f.dir, { recursive: true, force: true })
})

describe('loadDatasetEmbeddings with its own loaders', () => {
  it('embeds the train images in a worker thread', async () => {
    const before = tf.memory().numTensors
    calls.loadRunModel = 0
    calls.worker = 0
    const progress: number[] = []
    const e = await loadDatasetEmbeddings(f.ctx, f.runId, {
      batchSize: 4,
      onProgress: (d) => progress.push(d)
    })
    expect(calls.loadRunModel).toBe(0)
    expect(calls.worker).toBe(1)
    expect(tf.memory().numTensors).toBe(before)
    expect(progress).toEqual([9, 13, 17, 18])
    expectTrainRows(e)
    dropCache()
  }, 120_000)

  it('says why when the worker cannot load the model', async () => {
    const ckpt = join(f.ctx.paths.runs, 'r1', 'best.ckpt')
    renameSync(ckpt, `${ckpt}.away`)
    try {
      await expect(loadDatasetEmbeddings(f.ctx, f.runId)).rejects.toMatchObject({
        code: 'unavailable',
        message: expect.stringMatching(/the model of run \d+ cannot be loaded: .*best\.ckpt/)
      })
    } finally {
      renameSync(`${ckpt}.away`, ckpt)
    }
  }, 120_000)

  it("applies a frozen run's head to the trainer's cached features without decoding images", async () => {
    const config = new RunsRepo(f.ctx.db).get(f.runId).config
    expect(config.frozen).toBe(true)
    // What the trainer's frozen source writes: every image of the split, in image-id order.
    const backbone = await loadBackbone(config.backbone, {
      modelsDir: f.ctx.paths.models,
      seed: config.seed
    })
    const transform = evalTransform(config.backbone)
    const all = [...f.train, ...f.test].sort((a, b) => a.imageId - b.imageId)
    await extractFeatures(
      backbone,
      all.map((i) => ({ path: i.file })),
      {
        cacheDir: f.ctx.paths.features,
        cacheKey: `ds${f.datasetId}-${backbone.name}-${transform}`,
        mode: transform,
        workers: 1
      }
    )
    backbone.dispose()
    // A missing image makes the feature cache stale: the images are embedded (and that fails).
    const victim = f.train[0].file
    renameSync(victim, `${victim}.away`)
    const before = tf.memory().numTensors
    try {
      await expect(loadDatasetEmbeddings(f.ctx, f.runId)).rejects.toThrow(/cannot be embedded/)
    } finally {
      renameSync(`${victim}.away`, victim)
    }
    // Back with the same size and mtime: the cache is valid again, and no model is loaded.
    calls.worker = 0
    calls.loadRunModel = 0
    const progress: number[] = []
    const e = await loadDatasetEmbeddings(f.ctx, f.runId, { onProgress: (d) => progress.push(d) })
    expect(calls.worker).toBe(0)
    expect(calls.loadRunModel).toBe(0)
    expect(tf.memory().numTensors).toBe(before)
    expect(progress.at(-1)).toBe(18)
    expectTrainRows(e)
  }, 120_000)
})
