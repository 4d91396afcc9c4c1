/** A shared retrieval fixture: a toy dataset, runs with real gallery files and SQL rows, and a service over them. */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, expect } from 'vitest'
import { writeGallery } from '../ml/eval/gallery'
import { galleryPath } from '../runs/paths'
import type { RunModel } from '../retrieval/models'
import { mulberry32 } from '../ml/util/rng'
import { closeContext, createContext, type AppContext } from '../app/context'
import { createRetrievalService, type RetrievalServiceImpl } from './retrieval'
import { atEdge, type AtEdge } from './services.testutil'

/*
 * A fake-but-real data folder: one dataset with 4 test classes (sizes 4, 3, 3, 1) and 1 train
 * class, and runs whose gallery files are real .npy files and whose rows are real SQL rows.
 */

export const D = 6
export let dir: string
export let ctx: AppContext
/** The service under test, called as the dispatch calls it (payload defaults applied). */
export let svc: AtEdge<'retrieval', RetrievalServiceImpl>
export const imageIds: number[] = []
export const classOf = new Map<number, number>()
export const classNames = new Map<number, string>()
export let datasetId = 0
export let otherDatasetId = 0
export const loads: number[] = []
export const disposed: number[] = []

/** Embeddings of the gallery of a run: class centre + noise (scaled by `noise`), L2-normalised. */
export function embeddings(seed: number, noise: number): Float32Array {
  const r = mulberry32(seed)
  const classes = [...new Set(imageIds.map((id) => classOf.get(id) as number))]
  const out = new Float32Array(imageIds.length * D)
  imageIds.forEach((id, row) => {
    const c = classes.indexOf(classOf.get(id) as number)
    let norm = 0
    for (let f = 0; f < D; f++) {
      const v = (f === c ? 1 : 0) + noise * (r() - 0.5)
      out[row * D + f] = v
      norm += v * v
    }
    for (let f = 0; f < D; f++) out[row * D + f] /= Math.sqrt(norm)
  })
  return out
}

/** The naive reference: every other row by cosine, best first (ties by row). */
export function naiveRanking(g: Float32Array, q: number): { row: number; sim: number }[] {
  const n = g.length / D
  const out: { row: number; sim: number }[] = []
  for (let j = 0; j < n; j++) {
    if (j === q) continue
    let s = 0
    for (let f = 0; f < D; f++) s += g[q * D + f] * g[j * D + f]
    out.push({ row: j, sim: s })
  }
  return out.sort((a, b) => b.sim - a.sim || a.row - b.row)
}

/** Naive AP@R and R@1 of every row with a classmate. */
export function naiveQueries(
  g: Float32Array,
  ids: number[]
): { imageId: number; ap: number; correctAt1: boolean }[] {
  const out = []
  for (let q = 0; q < ids.length; q++) {
    const cls = classOf.get(ids[q])
    const R = ids.filter((id) => classOf.get(id) === cls).length - 1
    if (R === 0) continue
    const rank = naiveRanking(g, q)
    let hits = 0
    let sum = 0
    for (let i = 0; i < R; i++) {
      if (classOf.get(ids[rank[i].row]) === cls) {
        hits++
        sum += hits / (i + 1)
      }
    }
    out.push({ imageId: ids[q], ap: sum / R, correctAt1: classOf.get(ids[rank[0].row]) === cls })
  }
  return out
}

export function insertRun(p: {
  name: string
  status?: string
  datasetId?: number
  config?: Record<string, unknown>
  gallery?: { ids: number[]; data: Float32Array; storeQueries: boolean }
  testMetrics?: unknown
  bestMetrics?: unknown
  bestEpoch?: number
  /** runs.dir (absolute); default runs/<id>. */
  dir?: string
  /** Store this AP for every query instead of the true one. */
  storedAp?: number
}): number {
  const info = ctx.db
    .prepare(
      `INSERT INTO runs (name, status, dataset_id, dataset_name, config, app_version, best_epoch,
         best_metrics, test_metrics, finished_at, dir)
       VALUES (?, ?, ?, 'toy', ?, '0.1.0', ?, ?, ?, ?, ?)`
    )
    .run(
      p.name,
      p.status ?? 'completed',
      p.datasetId ?? datasetId,
      JSON.stringify(p.config ?? { datasetId, loss: 'hist', epochs: 2 }),
      p.bestEpoch ?? null,
      p.bestMetrics ? JSON.stringify(p.bestMetrics) : null,
      p.testMetrics ? JSON.stringify(p.testMetrics) : null,
      p.gallery ? new Date().toISOString() : null,
      p.dir ?? null
    )
  const id = Number(info.lastInsertRowid)
  if (p.gallery) {
    const ins = ctx.db.prepare('INSERT INTO run_gallery (run_id, idx, image_id) VALUES (?, ?, ?)')
    p.gallery.ids.forEach((imageId, idx) => ins.run(id, idx, imageId))
    const file = galleryPath(ctx, id)
    mkdirSync(join(file, '..'), { recursive: true })
    writeGallery(file, p.gallery.data, p.gallery.ids.length, D)
    if (p.gallery.storeQueries) {
      const q = ctx.db.prepare(
        'INSERT INTO run_queries (run_id, image_id, ap, correct_at1) VALUES (?, ?, ?, ?)'
      )
      for (const r of naiveQueries(p.gallery.data, p.gallery.ids))
        q.run(id, r.imageId, p.storedAp ?? r.ap, r.correctAt1 ? 1 : 0)
    }
  }
  return id
}

export let runA: number
export let runB: number
export let runNoQueries: number
export let runOtherDataset: number
export let runSubset: number
export let runQueued: number
export let galleryA: Float32Array
export let galleryB: Float32Array

/** Registers the fixture's set-up and tear-down in the calling test file. */
export function useRetrievalFixture(): void {
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'hist-retrieval-'))
    ctx = createContext(dir, 'cli')
    const db = ctx.db
    datasetId = Number(
      db.prepare(`INSERT INTO datasets (name, root, format) VALUES ('toy', ?, 'folder')`).run(dir)
        .lastInsertRowid
    )
    otherDatasetId = Number(
      db.prepare(`INSERT INTO datasets (name, root, format) VALUES ('other', ?, 'folder')`).run(dir)
        .lastInsertRowid
    )
    const addClass = (name: string, ordinal: number, split: string): number => {
      const id = Number(
        db
          .prepare('INSERT INTO classes (dataset_id, name, ordinal, split) VALUES (?, ?, ?, ?)')
          .run(datasetId, name, ordinal, split).lastInsertRowid
      )
      classNames.set(id, name)
      return id
    }
    const addImage = (classId: number, relPath: string): number =>
      Number(
        db
          .prepare(
            `INSERT INTO images (dataset_id, class_id, rel_path, size, mtime_ms, sha1) VALUES (?, ?, ?, 1, 0, 'x')`
          )
          .run(datasetId, classId, relPath).lastInsertRowid
      )
    addImage(addClass('train_class', 1, 'train'), 'train_class/t.png')
    const sizes: [string, number][] = [
      ['wren', 4],
      ['finch', 3],
      ['gull_50%', 3],
      ['lonely', 1]
    ]
    sizes.forEach(([name, count], k) => {
      const c = addClass(name, k + 2, 'test')
      for (let i = 0; i < count; i++) {
        const id = addImage(c, `${name}/img_${i}.png`)
        imageIds.push(id)
        classOf.set(id, c)
      }
    })
    galleryA = embeddings(3, 1.4)
    galleryB = embeddings(10, 1.2)
    const metrics = (r1: number) => ({
      recall: { '1': r1, '2': 0.9 },
      rPrecision: 0.5,
      mapAtR: 0.4
    })
    runA = insertRun({
      name: 'A',
      config: { datasetId, loss: 'hist', epochs: 2, backbone: { kind: 'mobilenetv2' }, lr: 1e-4 },
      gallery: { ids: imageIds, data: galleryA, storeQueries: true },
      bestEpoch: 2,
      bestMetrics: metrics(0.5),
      testMetrics: metrics(0.7)
    })
    runB = insertRun({
      name: 'B',
      config: {
        datasetId,
        loss: 'triplet',
        epochs: 2,
        backbone: { kind: 'small-cnn', inputSize: 32 },
        lr: 1e-4
      },
      gallery: {
        ids: [...imageIds].reverse(),
        data: reorder(galleryB, [...imageIds].reverse()),
        storeQueries: true
      },
      bestEpoch: 1,
      bestMetrics: metrics(0.6)
    })
    runNoQueries = insertRun({
      dir: join(dir, 'elsewhere'),
      name: 'no-queries',
      gallery: { ids: imageIds, data: galleryA, storeQueries: false }
    })
    runOtherDataset = insertRun({
      name: 'other',
      datasetId: otherDatasetId,
      gallery: { ids: imageIds, data: galleryA, storeQueries: true }
    })
    runSubset = insertRun({
      name: 'subset',
      gallery: { ids: imageIds.slice(1), data: galleryA.slice(D), storeQueries: true }
    })
    runQueued = insertRun({ name: 'queued', status: 'running' })
    svc = atEdge(
      'retrieval',
      createRetrievalService(ctx, {
        maxModels: 1,
        async loadRunModel(_ctx, runId): Promise<RunModel> {
          loads.push(runId)
          // A stand-in model: every image embeds to gallery row 5 of run A (a "finch").
          return {
            dim: D,
            async embed(inputs) {
              expect(inputs.every((b) => Buffer.isBuffer(b))).toBe(true)
              const out = new Float32Array(inputs.length * D)
              inputs.forEach((_, i) => out.set(galleryA.subarray(5 * D, 6 * D), i * D))
              return out
            },
            dispose: () => disposed.push(runId)
          }
        }
      })
    )
  })

  afterAll(() => {
    svc.dispose()
    closeContext(ctx)
    rmSync(dir, { recursive: true, force: true })
  })
}

/** Reorders run A's row layout (by imageIds) into the given id order. */
export function reorder(g: Float32Array, ids: number[]): Float32Array {
  const out = new Float32Array(g.length)
  ids.forEach((id, row) =>
    out.set(g.subarray(imageIds.indexOf(id) * D, (imageIds.indexOf(id) + 1) * D), row * D)
  )
  return out
}
