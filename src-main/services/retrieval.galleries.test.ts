/**
 * Galleries beyond the test split (train split, whole dataset) with a real small run: the
 * embedding job and its progress events, queries ranked with the evaluation's engine (query
 * excluded, correctness by class), the class filter with whole-gallery ranks, missed ranks,
 * the gallery lists and clear errors for bad input.
 */
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AppEvent, JobProgress } from '../../src-preload/contract'
import { closeContext } from '../app/context'
import { loadRunModel } from '../runs/inference'
import { DATA_FILE, loadDatasetEmbeddings, META_FILE } from '../retrieval/datasetEmbeddings'
import {
  makeEmbeddingFixture,
  type EmbeddingFixture
} from '../retrieval/datasetEmbeddings.testutil'
import { runDirOf } from '../retrieval/galleryIo'
import { createRetrievalService, type RetrievalServiceImpl } from './retrieval'
import { atEdge, type AtEdge } from './services.testutil'

let f: EmbeddingFixture
let svc: Svc
let loads = 0
const events: JobProgress[] = []
let tensorsBefore = 0

const dropCache = (): void => {
  rmSync(join(runDirOf(f.ctx, f.runId), META_FILE), { force: true })
  rmSync(join(runDirOf(f.ctx, f.runId), DATA_FILE), { force: true })
}

type Svc = AtEdge<'retrieval', RetrievalServiceImpl>

/** A fresh service (empty memory caches) counting dataset-model loads, called as the edge does. */
function service(): Svc {
  return atEdge(
    'retrieval',
    createRetrievalService(f.ctx, {
      loadDatasetModel: async (ctx, runId) => {
        loads++
        return loadRunModel(ctx, runId)
      }
    })
  )
}

/** Every other row of `data` by cosine, best first, ties by row (the naive reference). */
function naive(data: Float32Array, d: number, q: number): { row: number; sim: number }[] {
  const n = data.length / d
  const out: { row: number; sim: number }[] = []
  for (let j = 0; j < n; j++) {
    if (j === q) continue
    let s = 0
    for (let c = 0; c < d; c++) s += data[q * d + c] * data[j * d + c]
    out.push({ row: j, sim: Math.fround(s) })
  }
  return out.sort((a, b) => b.sim - a.sim || a.row - b.row)
}

beforeAll(async () => {
  f = await makeEmbeddingFixture()
  f.ctx.events.on((e: AppEvent) => {
    if (e.type === 'job') events.push(e.job)
  })
  tensorsBefore = tf.memory().numTensors
  svc = service()
}, 120_000)

afterAll(() => {
  svc.dispose()
  closeContext(f.ctx)
  rmSync(f.dir, { recursive: true, force: true })
})

describe('retrieval.prepareGallery', () => {
  it('embeds the dataset once as an embed job with progress, then reports the gallery ready', async () => {
    expect(await svc.prepareGallery({ runId: f.runId })).toEqual({ jobId: null })
    loads = 0
    const { jobId } = await svc.prepareGallery({ runId: f.runId, gallery: 'train' })
    expect(jobId).toEqual(expect.any(String))
    // Asked again while it runs: the same job.
    expect(await svc.prepareGallery({ runId: f.runId, gallery: 'all' })).toEqual({ jobId })
    const end = await f.ctx.jobs.wait(jobId!)
    expect(end).toMatchObject({ kind: 'embed', status: 'completed', targetId: f.runId })
    const mine = events.filter((e) => e.jobId === jobId)
    expect(mine.at(-1)).toMatchObject({ done: 18, total: 18, status: 'completed' })
    expect(
      mine.some((e) => e.status === 'running' && /Embedding the dataset of run/.test(e.message))
    ).toBe(true)
    expect(loads).toBe(1)
    expect(await svc.prepareGallery({ runId: f.runId, gallery: 'all' })).toEqual({ jobId: null })
    // A fresh service finds the cache in the run folder: ready without a job.
    const other = service()
    expect(await other.prepareGallery({ runId: f.runId, gallery: 'train' })).toEqual({
      jobId: null
    })
    expect(other.loadedDatasetGalleries()).toEqual([f.runId])
    other.dispose()
    expect(loads).toBe(1)
    expect(tf.memory().numTensors).toBe(tensorsBefore)
  }, 120_000)

  it('runs one embedding for concurrent queries on a cold gallery', async () => {
    dropCache()
    const cold = service()
    loads = 0
    const [a, b] = await Promise.all([
      cold.query({ runId: f.runId, imageId: f.train[0].imageId, gallery: 'all', k: 3 }),
      cold
        .query({ runId: f.runId, imageId: f.test[0].imageId, gallery: 'train', k: 3 })
        .catch((e: unknown) => e as Error)
    ])
    expect(loads).toBe(1)
    expect(a.neighbours.length).toBe(3)
    // A test image is not in the train split.
    expect(b).toMatchObject({
      code: 'not_found',
      message: expect.stringMatching(
        /image \d+ is not in the train split of run \d+; search the whole dataset/
      )
    })
    cold.dispose()
  }, 120_000)

  it('reports a cancelled embedding to the query that waited for it', async () => {
    dropCache()
    const cold = service()
    const { jobId } = await cold.prepareGallery({ runId: f.runId, gallery: 'all' })
    const waiting = cold
      .query({ runId: f.runId, imageId: f.train[0].imageId, gallery: 'all' })
      .catch((e: unknown) => e)
    f.ctx.jobs.cancel(jobId!)
    expect(await waiting).toMatchObject({
      code: 'unavailable',
      message: expect.stringMatching(/embedding the dataset of run \d+ was cancelled/)
    })
    expect((await f.ctx.jobs.wait(jobId!)).status).toBe('cancelled')
    // The next call starts it again.
    const again = await cold.prepareGallery({ runId: f.runId, gallery: 'all' })
    expect(again.jobId).toEqual(expect.any(String))
    expect((await f.ctx.jobs.wait(again.jobId!)).status).toBe('completed')
    cold.dispose()
    expect(tf.memory().numTensors).toBe(tensorsBefore)
  }, 120_000)
})

describe('retrieval.query over the train split and the whole dataset', () => {
  it('ranks the whole dataset like a naive scan, the query excluded, marked by class', async () => {
    const emb = await loadDatasetEmbeddings(f.ctx, f.runId)
    const d = emb.dim
    for (const q of [0, 4, 10, 17]) {
      const res = await svc.query({
        runId: f.runId,
        imageId: emb.imageIds[q],
        gallery: 'all',
        k: 5
      })
      const ref = naive(emb.data, d, q)
      expect(res.query?.id).toBe(emb.imageIds[q])
      expect(res.neighbours.map((n) => n.image.id)).toEqual(
        ref.slice(0, 5).map((r) => emb.imageIds[r.row])
      )
      expect(res.neighbours.map((n) => n.rank)).toEqual([1, 2, 3, 4, 5])
      for (const n of res.neighbours) expect(n.correct).toBe(n.image.classId === emb.classIds[q])
      // Missed: the 2 classmates outside the top 5, with their ranks in the full ranking.
      const mates = ref
        .map((r, i) => ({ id: emb.imageIds[r.row], rank: i + 1, cls: emb.classIds[r.row] }))
        .filter((r) => r.cls === emb.classIds[q] && r.rank > 5)
      expect(res.missed.map((m) => ({ id: m.image.id, rank: m.rank }))).toEqual(
        mates.map(({ id, rank }) => ({ id, rank }))
      )
      expect(res.ap).not.toBeNull()
    }
  })

  it('ranks the train split only, and its results can be queried in turn', async () => {
    const res = await svc.query({
      runId: f.runId,
      imageId: f.train[4].imageId,
      gallery: 'train',
      k: 8
    })
    const trainIds = new Set(f.train.map((t) => t.imageId))
    expect(res.neighbours.length).toBe(8)
    expect(res.neighbours.every((n) => trainIds.has(n.image.id))).toBe(true)
    expect(res.neighbours.some((n) => n.image.id === f.train[4].imageId)).toBe(false)
    const next = await svc.query({
      runId: f.runId,
      imageId: res.neighbours[2].image.id,
      gallery: 'train',
      k: 2
    })
    expect(next.query?.id).toBe(res.neighbours[2].image.id)
  })

  it('filters by class keeping the whole-gallery ranks', async () => {
    const q = f.test[1].imageId
    const full = await svc.query({ runId: f.runId, imageId: q, gallery: 'all', k: 17 })
    const classIds = [f.train[0].classId, f.test[6].classId]
    const res = await svc.query({ runId: f.runId, imageId: q, gallery: 'all', k: 4, classIds })
    const expected = full.neighbours.filter((n) => classIds.includes(n.image.classId)).slice(0, 4)
    expect(res.neighbours.map((n) => n.image.id)).toEqual(expected.map((n) => n.image.id))
    expect(res.neighbours.map((n) => n.rank)).toEqual(expected.map((n) => n.rank))
    expect(res.neighbours.map((n) => n.correct)).toEqual(expected.map((n) => n.correct))
    // The missed list and AP are the query's, whatever the filter.
    expect(res.ap).toBe(full.ap)
    // On the test split too.
    const testOnly = await svc.query({
      runId: f.runId,
      imageId: q,
      k: 2,
      classIds: [f.test[0].classId]
    })
    expect(testOnly.neighbours.every((n) => n.image.classId === f.test[0].classId)).toBe(true)
    expect(testOnly.neighbours.length).toBe(2)
  })

  it('ranks an outside image against a chosen gallery and classes', async () => {
    const all = await svc.queryExternal({
      runId: f.runId,
      path: f.train[2].file,
      gallery: 'all',
      k: 3
    })
    expect(all.neighbours[0].image.id).toBe(f.train[2].imageId)
    expect(all.neighbours[0].similarity).toBeGreaterThan(0.999)
    const cls = f.test[3].classId
    const only = await svc.queryExternal({
      runId: f.runId,
      path: f.train[2].file,
      gallery: 'all',
      k: 2,
      classIds: [cls]
    })
    expect(only.neighbours.every((n) => n.image.classId === cls)).toBe(true)
    expect(only.neighbours[0].rank).toBeGreaterThan(1)
    expect(only.missed).toEqual([])
  }, 60_000)

  it('refuses bad input with clear 400s', async () => {
    const bad = [
      [
        { runId: f.runId, imageId: f.test[0].imageId, gallery: 'everything' },
        /gallery: Invalid option/
      ],
      [{ runId: f.runId, imageId: f.test[0].imageId, classIds: [] }, /classIds: Too small/],
      [{ runId: f.runId, imageId: f.test[0].imageId, classIds: [0] }, /classIds\.0: Too small/],
      [
        { runId: f.runId, imageId: f.test[0].imageId, classIds: [f.train[0].classId, 4242] },
        /classIds: classes \d+, 4242 have no images in the test split of run \d+/
      ]
    ] as const
    for (const [payload, message] of bad) {
      await expect(svc.query(payload as never)).rejects.toMatchObject({
        code: 'invalid_payload',
        message: expect.stringMatching(message)
      })
    }
    await expect(
      svc.testImages({ runId: f.runId, gallery: 'train ' as never })
    ).rejects.toMatchObject({ code: 'invalid_payload', message: expect.stringMatching(/gallery/) })
    await expect(svc.prepareGallery({ runId: 777 })).rejects.toMatchObject({ code: 'not_found' })
  })
})

describe('retrieval gallery lists', () => {
  it('lists and searches the images of each gallery without embedding', async () => {
    const train = await svc.testImages({ runId: f.runId, gallery: 'train' })
    expect(train.total).toBe(9)
    expect(train.images.map((i) => i.id)).toEqual(f.train.map((t) => t.imageId))
    const all = await svc.testImages({ runId: f.runId, gallery: 'all', offset: 8, limit: 3 })
    expect(all.total).toBe(18)
    expect(all.images.map((i) => i.id)).toEqual(
      [...f.train, ...f.test].slice(8, 11).map((t) => t.imageId)
    )
    const found = await svc.testImages({ runId: f.runId, gallery: 'all', search: 'TEST_4/' })
    expect(found.total).toBe(3)
    expect(found.images.every((i) => i.className === 'test_4')).toBe(true)
  })

  it('lists an image added to the dataset since (the list cache follows the dataset)', async () => {
    expect((await svc.testImages({ runId: f.runId, gallery: 'train' })).total).toBe(9)
    const added = Number(
      f.ctx.db
        .prepare(
          `INSERT INTO images (dataset_id, class_id, rel_path, size, mtime_ms, sha1) VALUES (?, ?, 'train_0/new.png', 1, 0, 'y')`
        )
        .run(f.datasetId, f.train[0].classId).lastInsertRowid
    )
    try {
      const after = await svc.testImages({ runId: f.runId, gallery: 'train', search: 'new.png' })
      expect(after.total).toBe(1)
      expect(after.images[0].id).toBe(added)
    } finally {
      f.ctx.db.prepare('DELETE FROM images WHERE id = ?').run(added)
    }
    expect((await svc.testImages({ runId: f.runId, gallery: 'train' })).total).toBe(9)
  })

  it('counts the classes of each gallery in class order', async () => {
    const names = async (gallery: 'test' | 'train' | 'all') =>
      (await svc.galleryClasses({ runId: f.runId, gallery })).map(
        (c) => `${c.className}:${c.count}`
      )
    expect(await names('test')).toEqual(['test_3:3', 'test_4:3', 'test_5:3'])
    expect(await names('train')).toEqual(['train_0:3', 'train_1:3', 'train_2:3'])
    expect((await names('all')).length).toBe(6)
  })
})
