/** The retrieval service's embedding map: test split and whole dataset, colours' data, bad input. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AppEvent, JobProgress } from '../../src-preload/contract'
import { mapPathAt } from '../../src-preload/contract/retrieval'
import { mapCacheFile } from '../retrieval/embeddingMap'
import { quantise } from '../retrieval/mapPayload'
import type { DatasetEmbeddings } from '../retrieval/datasetEmbeddings'
import type { DatasetEmbeddingsLoader } from '../retrieval/mapService'
import { pca2 } from '../retrieval/projection'
import { createRetrievalService, type RetrievalServiceImpl } from './retrieval'
import { atEdge, type AtEdge } from './services.testutil'
import {
  D,
  ctx,
  svc,
  imageIds,
  classOf,
  naiveQueries,
  runA,
  runB,
  runQueued,
  galleryA,
  useRetrievalFixture
} from './retrieval.testutil'

useRetrievalFixture()

const runDir = (id: number): string => join(ctx.paths.runs, String(id))

describe('retrieval.embeddingMap of the test split', () => {
  it('projects the gallery with PCA (as pca2 does), caches it in the run folder and reuses it', async () => {
    const map = await svc.embeddingMap({ runId: runA })
    expect(map).toMatchObject({ runId: runA, method: 'pca', scope: 'test', fitted: null })
    expect(map.imageIds).toEqual(imageIds)
    expect(map.classIds).toEqual(imageIds.map((id) => classOf.get(id)))
    const ref = quantise(pca2(galleryA, imageIds.length, D).coords, imageIds.length)
    expect(map.x).toEqual(ref.x)
    expect(map.y).toEqual(ref.y)
    expect(map.split.every((s) => s === 1)).toBe(true)
    const file = mapCacheFile(runDir(runA), 'pca')
    expect(existsSync(file)).toBe(true)
    // A doctored cache proves the second call reads the file instead of recomputing.
    const cached = JSON.parse(readFileSync(file, 'utf8'))
    cached.coords[0] = 1e6
    writeFileSync(file, JSON.stringify(cached))
    const again = await svc.embeddingMap({ runId: runA, method: 'pca' })
    expect(again.x[0]).not.toBe(map.x[0])
  })

  it('gives each point its R@1 outcome (-1 for a query without classmates) and its file path', async () => {
    const map = await svc.embeddingMap({ runId: runA })
    const truth = new Map(naiveQueries(galleryA, imageIds).map((q) => [q.imageId, q.correctAt1]))
    map.imageIds.forEach((id, i) => {
      const t = truth.get(id)
      expect(map.hit[i]).toBe(t === undefined ? -1 : t ? 1 : 0)
    })
    expect(map.hit).toContain(-1) // the "lonely" class has one image: no query
    expect(mapPathAt(map, 0)).toBe('wren/img_0.png')
    expect(map.dirs).toEqual(['wren', 'finch', 'gull_50%', 'lonely'])
  })

  it('projects with UMAP: one finite point per gallery image, cached per method', async () => {
    const map = await svc.embeddingMap({ runId: runB, method: 'umap' })
    expect(map.imageIds.length).toBe(imageIds.length)
    expect(map.x.every(Number.isInteger)).toBe(true)
    expect(existsSync(mapCacheFile(runDir(runB), 'umap'))).toBe(true)
  })

  // The same refusals over dispatch and HTTP (400): dispatch/badPayloads.testutil.ts.
  it('refuses bad input at the edge with a clear invalid_payload naming the field', async () => {
    const bad: [unknown, RegExp][] = [
      [{ runId: runA, scope: 'everything' }, /scope/],
      [{ runId: runA, method: 'tsne' }, /method/],
      [{ runId: -1 }, /runId/],
      [{ runId: runA, scop: 'dataset' }, /scop/],
      [{}, /runId/]
    ]
    for (const [payload, field] of bad) {
      const err = await svc
        .embeddingMap(payload as never)
        .then(() => null)
        .catch((e: unknown) => e as { code: string; message: string })
      expect(err, JSON.stringify(payload)).toMatchObject({ code: 'invalid_payload' })
      expect(err!.message).toMatch(/^retrieval\.embeddingMap: invalid payload: /)
      expect(err!.message).toMatch(field)
    }
  })
})

describe('retrieval.embeddingMap of the whole dataset', () => {
  let maps: AtEdge<'retrieval', RetrievalServiceImpl>
  let trainId = 0
  const calls: number[] = []
  let events: JobProgress[] = []
  let off: () => void
  let loader: DatasetEmbeddingsLoader

  /** The train image and the test gallery of run A, as loadDatasetEmbeddings would give them. */
  function datasetEmbeddings(runId: number): DatasetEmbeddings {
    const n = imageIds.length + 1
    const data = new Float32Array(n * D)
    data.set(galleryA, D)
    data[0] = 1 // the train image points along the first axis
    const trainClass = (
      ctx.db.prepare('SELECT class_id FROM images WHERE id = ?').get(trainId) as {
        class_id: number
      }
    ).class_id
    return {
      runId,
      dim: D,
      imageIds: Int32Array.from([trainId, ...imageIds]),
      classIds: Int32Array.from([trainClass, ...imageIds.map((id) => classOf.get(id) as number)]),
      split: Uint8Array.from([0, ...imageIds.map(() => 1)]),
      data
    }
  }

  beforeAll(() => {
    trainId = (
      ctx.db.prepare("SELECT id FROM images WHERE rel_path = 'train_class/t.png'").get() as {
        id: number
      }
    ).id
    loader = async (_ctx, runId, opts) => {
      calls.push(runId)
      for (let i = 1; i <= 4; i++) {
        opts?.onProgress?.(i, 4)
        await new Promise((r) => setTimeout(r, 5))
      }
      return datasetEmbeddings(runId)
    }
    maps = atEdge(
      'retrieval',
      createRetrievalService(ctx, {
        loadDatasetEmbeddings: (c, id, o) => loader(c, id, o),
        umapFitLimit: 6
      })
    )
    off = ctx.events.on((e: AppEvent) => {
      if (e.type === 'job') events.push(e.job)
    })
  })
  afterAll(() => {
    off()
    maps.dispose()
  })

  it('maps train and test images with their split, outcome and path, reporting progress as a job', async () => {
    events = []
    const [map, twin] = await Promise.all([
      maps.embeddingMap({ runId: runA, scope: 'dataset' }),
      maps.embeddingMap({ runId: runA, scope: 'dataset' })
    ])
    // Concurrent requests share one computation.
    expect(twin).toBe(map)
    expect(calls).toEqual([runA])
    expect(map.scope).toBe('dataset')
    expect(map.imageIds).toEqual([trainId, ...imageIds])
    expect(map.split).toEqual([0, ...imageIds.map(() => 1)])
    expect(map.hit[0]).toBe(-1)
    expect(mapPathAt(map, 0)).toBe('train_class/t.png')
    expect(mapPathAt(map, 1)).toBe('wren/img_0.png')
    const ref = pca2(datasetEmbeddings(runA).data, imageIds.length + 1, D).coords
    expect(map.x).toEqual(quantise(ref, imageIds.length + 1).x)
    expect(existsSync(mapCacheFile(runDir(runA), 'pca', 'dataset'))).toBe(true)
    // Progress went out as an 'embed' job of the run, ending completed.
    const mine = events.filter((j) => j.kind === 'embed' && j.targetId === runA)
    expect(mine.some((j) => /embedding images/.test(j.message) && j.total === 4)).toBe(true)
    expect(mine.at(-1)?.status).toBe('completed')
  })

  it('fits UMAP on a sample when the dataset has more rows than the fit limit, and says so', async () => {
    const map = await maps.embeddingMap({ runId: runA, scope: 'dataset', method: 'umap' })
    expect(map.fitted).toBe(6)
    expect(map.imageIds.length).toBe(imageIds.length + 1)
  })

  it('fails clearly before embedding when the run has no test evaluation', async () => {
    calls.length = 0
    await expect(maps.embeddingMap({ runId: runQueued, scope: 'dataset' })).rejects.toMatchObject({
      code: 'unavailable',
      message: expect.stringMatching(/has not finished its test evaluation/)
    })
    expect(calls).toEqual([])
  })

  it('reports a loader failure and refuses inconsistent embeddings', async () => {
    const keep = loader
    try {
      loader = async () => {
        throw new Error('the model file of run 1 is missing')
      }
      await expect(maps.embeddingMap({ runId: runB, scope: 'dataset' })).rejects.toThrow(
        /model file of run 1 is missing/
      )
      loader = async (_c, runId) => ({ ...datasetEmbeddings(runId), split: new Uint8Array(2) })
      await expect(maps.embeddingMap({ runId: runB, scope: 'dataset' })).rejects.toThrow(
        /dataset embeddings of run \d+ are inconsistent/
      )
    } finally {
      loader = keep
    }
  })
})
