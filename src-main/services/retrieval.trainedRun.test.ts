/**
 * Whole-dataset retrieval on a run the real trainer trained (frozen small-CNN on 16 Omniglot
 * characters): the dataset embeddings take the trainer's feature cache (no image model loaded,
 * which pins the coupling to trainer/pipeline.ts's cache name and key), agree with embedding the
 * images, and the retrieval service ranks train and test images together.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { closeContext, createContext, type AppContext } from '../app/context'
import { importDataset } from '../datasets/importer'
import { loadDatasetEmbeddings, META_FILE, TEST, TRAIN } from '../retrieval/datasetEmbeddings'
import { runDirOf } from '../retrieval/galleryIo'
import { loadRunModel } from '../runs/inference'
import { makeSmallDataset, smallConfig } from '../runs/smallRuns.testutil'
import { createRetrievalService } from './retrieval'
import { createRunsService } from './runs'
import { atEdge } from './services.testutil'

const loads = vi.hoisted(() => ({ n: 0 }))
vi.mock('../runs/workerModel', async (importOriginal) => {
  const mod = await importOriginal<typeof import('../runs/workerModel')>()
  return {
    ...mod,
    loadRunModelInWorker: (...a: Parameters<typeof mod.loadRunModelInWorker>) => {
      loads.n++
      return mod.loadRunModelInWorker(...a)
    }
  }
})

let dir: string
let ctx: AppContext
let runId: number

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hist-retrieval-trained-'))
  makeSmallDataset(join(dir, 'omni'))
  ctx = createContext(join(dir, 'data'), 'cli')
  const datasetId = (await importDataset(ctx, { path: join(dir, 'omni'), format: 'folder' }))
    .dataset.id
  const runs = atEdge('runs', createRunsService(ctx, { graceMs: 30_000 }))
  try {
    const run = await runs.start(smallConfig(datasetId, { epochs: 2 }))
    expect(await runs.waitFor(run.id)).toBe('completed')
    runId = run.id
  } finally {
    await runs.shutdown()
  }
}, 240_000)

afterAll(() => {
  closeContext(ctx)
  rmSync(dir, { recursive: true, force: true })
})

describe('whole-dataset retrieval on a trained frozen run', () => {
  it("takes the trainer's cached features and agrees with embedding the images", async () => {
    loads.n = 0
    const fromFeatures = await loadDatasetEmbeddings(ctx, runId)
    expect(loads.n).toBe(0)
    expect(fromFeatures.split.filter((s) => s === TRAIN).length).toBe(160)
    expect(fromFeatures.split.filter((s) => s === TEST).length).toBe(160)
    // The images embedded by the run's model instead (the cache dropped, the model injected).
    rmSync(join(runDirOf(ctx, runId), META_FILE))
    const embedded = await loadDatasetEmbeddings(ctx, runId, { loadModel: loadRunModel })
    expect([...embedded.imageIds]).toEqual([...fromFeatures.imageIds])
    for (let i = 0; i < 160 * embedded.dim; i += 7)
      expect(embedded.data[i]).toBeCloseTo(fromFeatures.data[i], 4)
  }, 240_000)

  it('ranks train and test images together, the query left out', async () => {
    const svc = atEdge('retrieval', createRetrievalService(ctx))
    try {
      const train = await svc.testImages({ runId, gallery: 'train', limit: 5 })
      const q = train.images[0]
      const res = await svc.query({ runId, imageId: q.id, gallery: 'all', k: 30 })
      expect(res.neighbours.some((n) => n.image.id === q.id)).toBe(false)
      expect(res.neighbours.every((n) => n.correct === (n.image.classId === q.classId))).toBe(true)
      expect(res.neighbours.map((n) => n.rank)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1))
      const all = await svc.testImages({ runId, gallery: 'all', limit: 1 })
      expect(all.total).toBe(320)
    } finally {
      svc.dispose()
    }
  }, 120_000)
})
