/**
 * A frozen run's train rows come from the trainer's feature cache (the head applied to the
 * cached backbone features) without loading the image model; they agree with embedding the
 * images.
 */
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { closeContext } from '../app/context'
import { extractFeatures } from '../ml/data/featureCache'
import { loadBackbone } from '../ml/models/backbones'
import { evalTransform } from '../ml/train/transforms'
import { RunsRepo } from '../runs/repo'
import { loadDatasetEmbeddings, META_FILE } from './datasetEmbeddings'
import { makeEmbeddingFixture, type EmbeddingFixture } from './datasetEmbeddings.testutil'
import { runDirOf } from './galleryIo'

const calls = vi.hoisted(() => ({ loadRunModel: 0 }))
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
const dropCache = (): void => rmSync(join(runDirOf(f.ctx, f.runId), META_FILE))

beforeAll(async () => {
  f = await makeEmbeddingFixture()
}, 120_000)

afterAll(() => {
  closeContext(f.ctx)
  rmSync(f.dir, { recursive: true, force: true })
})

describe('loadDatasetEmbeddings of a frozen run', () => {
  it('embeds the images when the trainer left no feature cache, and the features when it did', async () => {
    expect(new RunsRepo(f.ctx.db).get(f.runId).config.frozen).toBe(true)
    calls.loadRunModel = 0
    const reference = await loadDatasetEmbeddings(f.ctx, f.runId)
    expect(calls.loadRunModel).toBe(1)
    expect(reference.imageIds.length).toBe(18)
    dropCache()
    // What the trainer's frozen source writes: every image of the split, in image-id order.
    const config = new RunsRepo(f.ctx.db).get(f.runId).config
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
    const before = tf.memory().numTensors
    calls.loadRunModel = 0
    const progress: number[] = []
    const e = await loadDatasetEmbeddings(f.ctx, f.runId, { onProgress: (d) => progress.push(d) })
    expect(calls.loadRunModel).toBe(0)
    expect(tf.memory().numTensors).toBe(before)
    expect(progress.at(-1)).toBe(18)
    expect([...e.imageIds]).toEqual([...reference.imageIds])
    for (let i = 0; i < e.data.length; i++) expect(e.data[i]).toBeCloseTo(reference.data[i], 4)
  }, 120_000)
})
