import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AppEvent, JobProgress } from '../../src-preload/contract'
import { tempContext } from '../datasets/datasets.testutil'
import { l2NormalizeRows } from '../ml/eval/engine'
import { mulberry32 } from '../ml/util/rng'
import type { DatasetEmbeddings } from '../retrieval/datasetEmbeddings'
import { createAuditService, type EmbeddingsLoader } from './audit'
import { atEdge } from './services.testutil'

/*
 * A dataset in SQL (4 classes × 6 images: a, b train; c, d test) and synthetic embeddings: class
 * centres + noise, with b's image 0 embedded like class a (a planted mislabel) and d's image 5 a
 * copy of a's image 1 (a planted train/test duplicate). The loader is injected.
 */
let ctx: ReturnType<typeof tempContext>
let datasetId = 0
let runId = 0
let orphanRunId = 0
const ids: number[] = []
const classIds: number[] = []
const names = ['a', 'b', 'c', 'd']
const D = 8
let loads = 0

function embeddings(): DatasetEmbeddings {
  const r = mulberry32(4)
  const n = ids.length
  const raw = new Float32Array(n * D)
  for (let i = 0; i < n; i++) {
    const c = Math.floor(i / 6)
    const centre = i === 6 ? 0 : c
    for (let t = 0; t < D; t++) raw[i * D + t] = (t === centre ? 1 : 0) + 0.5 * (r() - 0.5)
  }
  raw.copyWithin(23 * D, 1 * D, 2 * D)
  return {
    runId,
    dim: D,
    imageIds: Int32Array.from(ids),
    classIds: Int32Array.from(ids, (_, i) => classIds[Math.floor(i / 6)]),
    split: Uint8Array.from(ids, (_, i) => (i < 12 ? 0 : 1)),
    data: l2NormalizeRows(raw, n, D)
  }
}

const loader: EmbeddingsLoader = async (_ctx, id, opts) => {
  loads++
  if (id !== runId) throw new Error(`unexpected run ${id}`)
  opts?.onProgress?.(ids.length, ids.length)
  return embeddings()
}

beforeAll(() => {
  ctx = tempContext()
  const db = ctx.db
  datasetId = Number(
    db.prepare(`INSERT INTO datasets (name, root, format) VALUES ('toy', '/x', 'folder')`).run()
      .lastInsertRowid
  )
  names.forEach((name, k) => {
    const c = Number(
      db
        .prepare('INSERT INTO classes (dataset_id, name, ordinal, split) VALUES (?, ?, ?, ?)')
        .run(datasetId, name, k, k < 2 ? 'train' : 'test').lastInsertRowid
    )
    classIds.push(c)
    for (let i = 0; i < 6; i++)
      ids.push(
        Number(
          db
            .prepare(
              `INSERT INTO images (dataset_id, class_id, rel_path, size, mtime_ms, sha1) VALUES (?, ?, ?, 1, 0, 'x')`
            )
            .run(datasetId, c, `${name}/${i}.png`).lastInsertRowid
        )
      )
  })
  const insertRun = (dataset: number | null): number =>
    Number(
      db
        .prepare(
          `INSERT INTO runs (name, status, dataset_id, dataset_name, config, app_version) VALUES ('r', 'completed', ?, 'toy', '{}', '0.1.0')`
        )
        .run(dataset).lastInsertRowid
    )
  runId = insertRun(datasetId)
  orphanRunId = insertRun(null)
})
afterAll(() => ctx.dispose())

describe('audit service', () => {
  it('reports the planted mislabel with its neighbours and the train/test duplicate as a leak', async () => {
    const svc = atEdge('audit', createAuditService(ctx, { loadEmbeddings: loader }))
    const events: JobProgress[] = []
    const off = ctx.events.on((e: AppEvent) => e.type === 'job' && events.push(e.job))
    const r = await svc.report({ runId, k: 4, threshold: 0.99 })
    off()
    expect(r).toMatchObject({ runId, datasetId, images: 24, dim: D, k: 4, threshold: 0.99 })
    const top = r.mislabels.slice(0, 2).map((c) => c.image.relPath)
    expect(top).toEqual(expect.arrayContaining(['b/0.png', 'd/5.png']))
    const b0 = r.mislabels.find((c) => c.image.relPath === 'b/0.png')!
    expect(b0).toMatchObject({ dominantClassName: 'a', dominantClassId: classIds[0] })
    expect(b0.image).toMatchObject({ className: 'b', split: 'train', datasetId })
    expect(b0.neighbours).toHaveLength(4)
    expect(b0.neighbours.filter((x) => x.image.className === 'a').length).toBeGreaterThanOrEqual(3)
    expect(r.duplicateTotal).toBe(1)
    expect(r.leakTotal).toBe(1)
    expect(r.duplicates[0]).toMatchObject({ leak: true, sameClass: false })
    expect([r.duplicates[0].a.relPath, r.duplicates[0].b.relPath]).toEqual(['a/1.png', 'd/5.png'])
    expect(r.duplicates[0].a.split).toBe('train')
    expect(r.duplicates[0].b.split).toBe('test')
    // Progress went out as an 'audit' job on the run, ending completed.
    expect(events.every((j) => j.kind === 'audit' && j.targetId === runId)).toBe(true)
    expect(events.at(-1)?.status).toBe('completed')
    expect(events.some((j) => j.message === 'Comparing the images')).toBe(true)
  })

  it('cuts both lists to the limit but counts everything', async () => {
    const svc = atEdge('audit', createAuditService(ctx, { loadEmbeddings: loader }))
    const r = await svc.report({ runId, k: 4, threshold: 0.5, minScore: 0, limit: 3 })
    expect(r.mislabels).toHaveLength(3)
    expect(r.mislabelTotal).toBeGreaterThan(3)
    expect(r.duplicates).toHaveLength(3)
    expect(r.duplicateTotal).toBeGreaterThan(3)
    expect(r.duplicates[0].leak).toBe(true)
  })

  it('answers bad input with 400 and unknown runs with 404, without loading anything', async () => {
    const svc = atEdge('audit', createAuditService(ctx, { loadEmbeddings: loader }))
    const before = loads
    const bad = await svc.report({ runId, k: 0, threshold: 1.5 }).catch((e: unknown) => e)
    expect(bad).toMatchObject({ code: 'invalid_payload' })
    expect(String((bad as Error).message)).toMatch(/k: .*; threshold: /)
    expect((bad as { issues: { path: string }[] }).issues.map((i) => i.path)).toEqual([
      'k',
      'threshold'
    ])
    await expect(svc.report({ runId, threshold: 0.2 })).rejects.toMatchObject({
      code: 'invalid_payload'
    })
    await expect(svc.report({ runId: 9999 })).rejects.toMatchObject({ code: 'not_found' })
    await expect(svc.report({ runId: orphanRunId })).rejects.toThrow(/dataset was removed/)
    expect(loads).toBe(before)
  })

  it('fails the job with the loader error (e.g. a run without a test evaluation)', async () => {
    const failing: EmbeddingsLoader = async () => {
      throw new Error('run has no test evaluation yet')
    }
    const svc = atEdge('audit', createAuditService(ctx, { loadEmbeddings: failing }))
    await expect(svc.report({ runId })).rejects.toThrow(/no test evaluation/)
  })

  it('stops when its job is cancelled and answers with a conflict', async () => {
    const slow: EmbeddingsLoader = async (c, id, opts) => {
      opts?.onProgress?.(1, ids.length)
      await new Promise((r) => setTimeout(r, 50))
      if (opts?.signal?.aborted) throw new Error('embedding stopped')
      return loader(c, id, opts)
    }
    const svc = atEdge('audit', createAuditService(ctx, { loadEmbeddings: slow }))
    const off = ctx.events.on((e: AppEvent) => {
      if (e.type === 'job' && e.job.kind === 'audit' && e.job.status === 'running')
        ctx.jobs.cancel(e.job.jobId)
    })
    const err = await svc.report({ runId }).catch((e: unknown) => e)
    off()
    expect(err).toMatchObject({ code: 'conflict' })
    expect(String((err as Error).message)).toMatch(/^Audit of run \d+ was cancelled$/)
  })
})
