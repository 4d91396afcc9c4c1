import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { writeGallery } from '../ml/eval/gallery'
import { mapCacheFile } from '../retrieval/embeddingMap'
import { galleryPath } from '../runs/paths'
import type { RunModel } from '../retrieval/models'
import { mulberry32 } from '../ml/util/rng'
import { pca2 } from '../retrieval/projection'
import { closeContext, createContext, type AppContext } from '../app/context'
import { createRetrievalService, type RetrievalServiceImpl } from './retrieval'

/*
 * A fake-but-real data folder: one dataset with 4 test classes (sizes 4, 3, 3, 1) and 1 train
 * class, and runs whose gallery files are real .npy files and whose rows are real SQL rows.
 */

const D = 6
let dir: string
let ctx: AppContext
let svc: RetrievalServiceImpl
const imageIds: number[] = []
const classOf = new Map<number, number>()
const classNames = new Map<number, string>()
let datasetId = 0
let otherDatasetId = 0
const loads: number[] = []
const disposed: number[] = []

/** Embeddings of the gallery of a run: class centre + noise (scaled by `noise`), L2-normalised. */
function embeddings(seed: number, noise: number): Float32Array {
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
function naiveRanking(g: Float32Array, q: number): { row: number; sim: number }[] {
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
function naiveQueries(
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

function insertRun(p: {
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

let runA: number
let runB: number
let runNoQueries: number
let runOtherDataset: number
let runSubset: number
let runQueued: number
let galleryA: Float32Array
let galleryB: Float32Array

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
  const metrics = (r1: number) => ({ recall: { '1': r1, '2': 0.9 }, rPrecision: 0.5, mapAtR: 0.4 })
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
  svc = createRetrievalService(ctx, {
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
})

/** Reorders run A's row layout (by imageIds) into the given id order. */
function reorder(g: Float32Array, ids: number[]): Float32Array {
  const out = new Float32Array(g.length)
  ids.forEach((id, row) =>
    out.set(g.subarray(imageIds.indexOf(id) * D, (imageIds.indexOf(id) + 1) * D), row * D)
  )
  return out
}

afterAll(() => {
  svc.dispose()
  closeContext(ctx)
  rmSync(dir, { recursive: true, force: true })
})

describe('retrieval.query', () => {
  it('returns the top K by cosine, self excluded, with correct flags, missed list and AP', async () => {
    for (let q = 0; q < imageIds.length; q++) {
      const res = await svc.query({ runId: runA, imageId: imageIds[q], k: 3 })
      const ref = naiveRanking(galleryA, q)
      expect(res.query?.id).toBe(imageIds[q])
      expect(res.neighbours.map((n) => n.image.id)).toEqual(
        ref.slice(0, 3).map((r) => imageIds[r.row])
      )
      expect(res.neighbours.map((n) => n.rank)).toEqual([1, 2, 3])
      expect(res.neighbours.some((n) => n.image.id === imageIds[q])).toBe(false)
      res.neighbours.forEach((n, i) => {
        expect(n.similarity).toBeCloseTo(ref[i].sim, 5)
        if (i > 0) expect(n.similarity).toBeLessThanOrEqual(res.neighbours[i - 1].similarity)
        expect(n.correct).toBe(classOf.get(n.image.id) === classOf.get(imageIds[q]))
        expect(n.image.className).toBe(classNames.get(n.image.classId))
      })
      const cls = classOf.get(imageIds[q])
      const expectedMissed = imageIds.filter(
        (id, row) =>
          row !== q && classOf.get(id) === cls && !res.neighbours.some((n) => n.image.id === id)
      )
      expect(res.missed.map((m) => m.id).sort()).toEqual(expectedMissed.sort())
      const stored = naiveQueries(galleryA, imageIds).find((r) => r.imageId === imageIds[q])
      if (stored) expect(res.ap).toBeCloseTo(stored.ap, 10)
      else expect(res.ap).toBeNull()
    }
  })

  it('reports the AP@R computed from the gallery, whatever AP the run stored', async () => {
    const doctored = insertRun({
      name: 'doctored',
      gallery: { ids: imageIds, data: galleryA, storeQueries: true },
      storedAp: 0.125
    })
    for (const r of naiveQueries(galleryA, imageIds)) {
      const res = await svc.query({ runId: doctored, imageId: r.imageId, k: 1 })
      expect(res.ap).toBeCloseTo(r.ap, 6)
    }
  })

  it('reads the gallery from the folder recorded in runs.dir', async () => {
    const res = await svc.query({ runId: runNoQueries, imageId: imageIds[0], k: 2 })
    expect(res.neighbours.map((n) => n.image.id)).toEqual(
      naiveRanking(galleryA, 0)
        .slice(0, 2)
        .map((r) => imageIds[r.row])
    )
    expect(existsSync(join(dir, 'elsewhere', 'gallery.bin'))).toBe(true)
  })

  it('applies the default K and caps K at the gallery size', async () => {
    const res = await svc.query({ runId: runA, imageId: imageIds[0] })
    expect(res.neighbours.length).toBe(imageIds.length - 1)
  })

  it('fails clearly for an unknown run, a run without gallery and an image not in the gallery', async () => {
    await expect(svc.query({ runId: 9999, imageId: imageIds[0] })).rejects.toMatchObject({
      code: 'not_found',
      message: expect.stringMatching(/no run with id 9999/)
    })
    await expect(svc.query({ runId: runQueued, imageId: imageIds[0] })).rejects.toMatchObject({
      code: 'unavailable',
      message: expect.stringMatching(/has not finished its test evaluation: it is still running/)
    })
    await expect(svc.query({ runId: runSubset, imageId: imageIds[0] })).rejects.toMatchObject({
      code: 'not_found',
      message: expect.stringMatching(/not in the test gallery of run/)
    })
    await expect(svc.query({ runId: runA, imageId: imageIds[0], k: 0 })).rejects.toMatchObject({
      code: 'invalid_payload'
    })
  })

  it('gives the same clear errors from every method', async () => {
    const calls = (runId: number) => [
      svc.worst({ runId }),
      svc.perClass({ runId }),
      svc.testImages({ runId }),
      svc.embeddingMap({ runId }),
      svc.flipped({ runA: runId, runB: runA })
    ]
    for (const call of calls(31337)) {
      await expect(call).rejects.toMatchObject({
        code: 'not_found',
        message: expect.stringMatching(/no run with id 31337/)
      })
    }
    for (const call of calls(runQueued)) {
      await expect(call).rejects.toMatchObject({
        code: 'unavailable',
        message: expect.stringMatching(/has not finished its test evaluation/)
      })
    }
  })

  it('reports a missing or inconsistent gallery file', async () => {
    const broken = insertRun({
      name: 'broken',
      gallery: { ids: imageIds, data: galleryA, storeQueries: false }
    })
    const file = galleryPath(ctx, broken)
    writeGallery(file, galleryA.slice(D), imageIds.length - 1, D)
    await expect(svc.query({ runId: broken, imageId: imageIds[0] })).rejects.toThrow(
      /has 10 rows but the run lists 11/
    )
    // A damaged file is refused with the reader's reason.
    writeFileSync(file, Buffer.from('not a gallery'))
    await expect(svc.query({ runId: broken, imageId: imageIds[0] })).rejects.toThrow(
      /gallery embeddings of run \d+ cannot be read: .*bad magic|truncated/
    )
    rmSync(file)
    await expect(svc.query({ runId: broken, imageId: imageIds[0] })).rejects.toThrow(
      /gallery embeddings of run \d+ are missing/
    )
  })

  it('keeps at most two galleries in memory', async () => {
    for (const runId of [runA, runB, runNoQueries, runA])
      await svc.query({ runId, imageId: imageIds[1], k: 1 })
    expect(svc.loadedGalleries().length).toBeLessThanOrEqual(2)
    expect(svc.loadedGalleries()).toEqual([runNoQueries, runA])
  })
})

describe('retrieval.worst and perClass', () => {
  it('lists the lowest-AP queries first, with the R@1 flag', async () => {
    const ref = naiveQueries(galleryA, imageIds).sort(
      (a, b) => a.ap - b.ap || a.imageId - b.imageId
    )
    const worst = await svc.worst({ runId: runA, limit: 4 })
    expect(worst.map((w) => w.image.id)).toEqual(ref.slice(0, 4).map((r) => r.imageId))
    expect(worst.map((w) => w.recallAt1)).toEqual(ref.slice(0, 4).map((r) => r.correctAt1))
    for (let i = 1; i < worst.length; i++)
      expect(worst[i].ap).toBeGreaterThanOrEqual(worst[i - 1].ap)
    // The singleton class has no query row.
    expect((await svc.worst({ runId: runA, limit: 100 })).length).toBe(imageIds.length - 1)
    // A run without stored rows computes the same list from its gallery.
    const computed = await svc.worst({ runId: runNoQueries, limit: 4 })
    expect(computed.map((w) => w.image.id)).toEqual(ref.slice(0, 4).map((r) => r.imageId))
  })

  it('gives Recall@1 per class from the query rows, worst class first', async () => {
    const ref = naiveQueries(galleryA, imageIds)
    const per = await svc.perClass({ runId: runA })
    expect(per.map((c) => c.className).sort()).toEqual(['finch', 'gull_50%', 'wren'])
    for (const c of per) {
      const rows = ref.filter((r) => classOf.get(r.imageId) === c.classId)
      expect(c.count).toBe(rows.length)
      expect(c.recallAt1).toBeCloseTo(rows.filter((r) => r.correctAt1).length / rows.length, 12)
    }
    for (let i = 1; i < per.length; i++)
      expect(per[i].recallAt1).toBeGreaterThanOrEqual(per[i - 1].recallAt1)
  })
})

describe('retrieval.testImages', () => {
  it('pages the gallery images and searches class names and paths literally', async () => {
    const all = await svc.testImages({ runId: runA })
    expect(all.total).toBe(imageIds.length)
    expect(all.images.map((i) => i.className).slice(0, 4)).toEqual(['wren', 'wren', 'wren', 'wren'])
    const page = await svc.testImages({ runId: runA, offset: 4, limit: 3 })
    expect(page.total).toBe(imageIds.length)
    expect(page.images.map((i) => i.id)).toEqual(all.images.slice(4, 7).map((i) => i.id))
    const finch = await svc.testImages({ runId: runA, search: 'FINCH' })
    expect(finch.total).toBe(3)
    expect(finch.images.every((i) => i.className === 'finch')).toBe(true)
    // '%' and '_' are literal, not LIKE wildcards.
    expect((await svc.testImages({ runId: runA, search: '50%' })).total).toBe(3)
    expect((await svc.testImages({ runId: runA, search: 'img_3' })).total).toBe(1)
    expect((await svc.testImages({ runId: runA, search: 'l_nely' })).total).toBe(0)
    expect((await svc.testImages({ runId: runSubset })).total).toBe(imageIds.length - 1)
    await expect(svc.testImages({ runId: runQueued })).rejects.toThrow(
      /has not finished its test evaluation/
    )
  })
})

describe('retrieval.compare', () => {
  it('lists every flattened config key with a differs flag, and the best metrics', async () => {
    const cmp = await svc.compare({ runIds: [runA, runB] })
    expect(cmp.runIds).toEqual([runA, runB])
    const row = (key: string) => cmp.configRows.find((r) => r.key === key)
    expect(row('loss')).toEqual({ key: 'loss', values: ['hist', 'triplet'], differs: true })
    expect(row('lr')).toEqual({ key: 'lr', values: [1e-4, 1e-4], differs: false })
    expect(row('backbone.kind')?.differs).toBe(true)
    // A key only one run has shows null for the other.
    expect(row('backbone.inputSize')).toEqual({
      key: 'backbone.inputSize',
      values: [null, 32],
      differs: true
    })
    expect(cmp.configRows.map((r) => r.key).slice(0, 2)).toEqual(['datasetId', 'loss'])
    // Test metrics win over best (model-selection) metrics; B has only the latter.
    expect(cmp.best[0]).toMatchObject({
      runId: runA,
      epoch: 2,
      recall: { '1': 0.7, '2': 0.9 },
      mapAtR: 0.4,
      rPrecision: 0.5,
      split: 'test'
    })
    // B's figures are validation ones: labelled so, never as test, and without test intervals.
    expect(cmp.best[1].recall['1']).toBe(0.6)
    expect(cmp.best[1].split).toBe('validation')
    expect(cmp.best[1].ci).toBeNull()
    const none = await svc.compare({ runIds: [runA, runQueued] })
    expect(none.best[1]).toMatchObject({
      runId: runQueued,
      epoch: null,
      recall: {},
      mapAtR: null,
      rPrecision: null,
      split: null,
      ci: null
    })
    await expect(svc.compare({ runIds: [runA, 424242] })).rejects.toMatchObject({
      code: 'not_found'
    })
    await expect(svc.compare({ runIds: [runA] })).rejects.toMatchObject({ code: 'invalid_payload' })
  })
})

describe('retrieval.flipped', () => {
  it('returns the queries right in A and wrong in B, and the reverse', async () => {
    const a = new Map(naiveQueries(galleryA, imageIds).map((r) => [r.imageId, r.correctAt1]))
    const revIds = [...imageIds].reverse()
    const b = new Map(
      naiveQueries(reorder(galleryB, revIds), revIds).map((r) => [r.imageId, r.correctAt1])
    )
    const onlyA = [...a]
      .filter(([id, ok]) => ok && b.get(id) === false)
      .map(([id]) => id)
      .sort((x, y) => x - y)
    const onlyB = [...a]
      .filter(([id, ok]) => !ok && b.get(id) === true)
      .map(([id]) => id)
      .sort((x, y) => x - y)
    // The fixture must actually flip something, or this test could not fail.
    expect(onlyA.length + onlyB.length).toBeGreaterThan(0)
    const res = await svc.flipped({ runA, runB })
    expect(res.onlyA.map((i) => i.id)).toEqual(onlyA)
    expect(res.onlyB.map((i) => i.id)).toEqual(onlyB)
    const rev = await svc.flipped({ runA: runB, runB: runA })
    expect(rev.onlyA.map((i) => i.id)).toEqual(onlyB)
  })

  it('refuses runs on different datasets or test splits, saying why', async () => {
    await expect(svc.flipped({ runA, runB: runOtherDataset })).rejects.toThrow(
      /cannot be compared query by query: run \d+ was evaluated on "toy" and run \d+ on "toy"/
    )
    await expect(svc.flipped({ runA, runB: runSubset })).rejects.toThrow(
      /test splits differ \(1 test images only in run/
    )
    await expect(svc.flipped({ runA, runB: runQueued })).rejects.toThrow(
      /has not finished its test evaluation/
    )
  })
})

describe('retrieval.embeddingMap', () => {
  it('projects the gallery with PCA (as pca2 does), caches it in the run folder and reuses it', async () => {
    const pts = await svc.embeddingMap({ runId: runA })
    const ref = pca2(galleryA, imageIds.length, D).coords
    expect(pts.map((p) => p.imageId)).toEqual(imageIds)
    expect(pts.map((p) => p.classId)).toEqual(imageIds.map((id) => classOf.get(id)))
    pts.forEach((p, i) => {
      expect(p.x).toBeCloseTo(ref[2 * i], 9)
      expect(p.y).toBeCloseTo(ref[2 * i + 1], 9)
    })
    const file = mapCacheFile(join(ctx.paths.runs, String(runA)), 'pca')
    expect(existsSync(file)).toBe(true)
    // A doctored cache proves the second call reads the file instead of recomputing.
    const cached = JSON.parse(readFileSync(file, 'utf8'))
    cached.coords[0] = 123
    writeFileSync(file, JSON.stringify(cached))
    expect((await svc.embeddingMap({ runId: runA, method: 'pca' }))[0].x).toBe(123)
  })

  it('projects with UMAP: one finite point per gallery image', async () => {
    const pts = await svc.embeddingMap({ runId: runB, method: 'umap' })
    expect(pts.length).toBe(imageIds.length)
    expect(pts.every((p) => Number.isFinite(p.x) && Number.isFinite(p.y))).toBe(true)
    expect(existsSync(mapCacheFile(join(ctx.paths.runs, String(runB)), 'umap'))).toBe(true)
  })
})

describe('retrieval.queryExternal', () => {
  let png: Buffer
  beforeAll(async () => {
    png = await sharp({
      create: { width: 8, height: 6, channels: 3, background: { r: 200, g: 10, b: 10 } }
    })
      .png()
      .toBuffer()
  })

  it('embeds a file or dropped bytes with the run model and searches the gallery', async () => {
    const file = join(dir, 'query.png')
    writeFileSync(file, png)
    const res = await svc.queryExternal({ runId: runA, path: file, k: 3 })
    expect(res.query).toBeNull()
    expect(res.ap).toBeNull()
    expect(res.missed).toEqual([])
    expect(res.neighbours[0].image.id).toBe(imageIds[5])
    expect(res.neighbours[0].similarity).toBeCloseTo(1, 5)
    expect(res.neighbours.every((n) => n.correct === false)).toBe(true)
    const viaB64 = await svc.queryExternal({
      runId: runA,
      dataBase64: `data:image/png;base64,${png.toString('base64')}`,
      k: 3
    })
    expect(viaB64.neighbours.map((n) => n.image.id)).toEqual(res.neighbours.map((n) => n.image.id))
    expect(loads).toEqual([runA])
  })

  it('keeps a small LRU of models and disposes the evicted one', async () => {
    const b64 = png.toString('base64')
    await svc.queryExternal({ runId: runB, dataBase64: b64, k: 1 })
    expect(disposed).toEqual([runA])
    await svc.queryExternal({ runId: runB, dataBase64: b64, k: 1 })
    expect(loads.filter((r) => r === runB).length).toBe(1)
  })

  it('reports a model that cannot be loaded as unavailable, naming the run', async () => {
    const failing = createRetrievalService(ctx, {
      loadRunModel: () => Promise.reject(new Error('run has no saved model yet'))
    })
    await expect(
      failing.queryExternal({ runId: runA, dataBase64: png.toString('base64') })
    ).rejects.toMatchObject({
      code: 'unavailable',
      message: expect.stringMatching(/model of run \d+ cannot be loaded .*no saved model yet/)
    })
    failing.dispose()
  })

  it('rejects what is not an image, with a clear message', async () => {
    const txt = join(dir, 'notes.png')
    writeFileSync(txt, 'hello, not a picture')
    await expect(svc.queryExternal({ runId: runA, path: txt })).rejects.toMatchObject({
      code: 'invalid_payload',
      message: expect.stringMatching(/notes\.png" is not an image/)
    })
    await expect(
      svc.queryExternal({ runId: runA, path: join(dir, 'nope.jpg') })
    ).rejects.toMatchObject({ code: 'not_found' })
    await expect(svc.queryExternal({ runId: runA, dataBase64: '!!!' })).rejects.toThrow(
      /not valid base64/
    )
    const truncated = png.subarray(0, Math.floor(png.length / 2)).toString('base64')
    // Bytes come from a chosen or a dropped file: the message must not claim it was dropped.
    await expect(svc.queryExternal({ runId: runA, dataBase64: truncated })).rejects.toThrow(
      /^(?!.*dropped image).*uploaded image/
    )
    await expect(svc.queryExternal({ runId: runA })).rejects.toThrow(
      /give either path or dataBase64/
    )
    await expect(
      svc.queryExternal({ runId: runQueued, dataBase64: png.toString('base64') })
    ).rejects.toThrow(/has not finished its test evaluation/)
  })
})
