/**
 * Embedding-map figures at 20k points (BENCH_N), 512-d, 200 classes, half train and half test:
 * the projection through the retrieval service (worker; PCA, and UMAP fitted on a 5k sample) for
 * the test split and the whole dataset, cold and cached; the wire payload's size against an
 * array of point objects. (The renderer's side was checked in Chromium with 20k points in large
 * mode: setOption about 160 ms, a zoom step about 150 ms, on a loaded 2-core machine.)
 * The dataset embeddings are synthetic (injected), so the figures are the map's own cost, not
 * the model's. Writes bench/results/map.json. Run: npm run bench:map
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { mapPathAt, type EmbeddingMap } from '../src-preload/contract/retrieval'
import { closeContext, createContext } from '../src-main/app/context'
import { writeGallery } from '../src-main/ml/eval/gallery'
import { mulberry32 } from '../src-main/ml/util/rng'
import { UMAP_FIT_LIMIT } from '../src-main/retrieval/projectionJob'
import { galleryPath } from '../src-main/runs/paths'
import { createRetrievalService } from '../src-main/services/retrieval'

const N = Number(process.env.BENCH_N ?? 20_000)
const D = 512
const C = 200
const here = dirname(fileURLToPath(import.meta.url))

async function time<T>(fn: () => Promise<T> | T): Promise<[number, T]> {
  const t0 = performance.now()
  const v = await fn()
  return [(performance.now() - t0) / 1000, v]
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'hist-map-bench-'))
  const ctx = createContext(dir, 'cli')
  const db = ctx.db
  const ds = Number(
    db.prepare(`INSERT INTO datasets (name, root, format) VALUES ('b', ?, 'folder')`).run(dir)
      .lastInsertRowid
  )
  const insClass = db.prepare(
    `INSERT INTO classes (dataset_id, name, ordinal, split) VALUES (?, ?, ?, ?)`
  )
  // Classes 0..C/2-1 train, the rest test, as a class-disjoint split.
  const classIds = Array.from({ length: C }, (_, c) =>
    Number(
      insClass.run(
        ds,
        `${String(c).padStart(3, '0')}.Some_Bird_Name`,
        c + 1,
        c < C / 2 ? 'train' : 'test'
      ).lastInsertRowid
    )
  )
  const r = mulberry32(1)
  const centres = new Float32Array(C * D).map(() => r() - 0.5)
  const data = new Float32Array(N * D)
  const ids = new Int32Array(N)
  const cls = new Int32Array(N)
  const split = new Uint8Array(N)
  const insImg = db.prepare(
    `INSERT INTO images (dataset_id, class_id, rel_path, size, mtime_ms, sha1) VALUES (?, ?, ?, 1, 0, 'x')`
  )
  db.transaction(() => {
    for (let i = 0; i < N; i++) {
      // Train rows first, then test rows (as loadDatasetEmbeddings orders them).
      const c = (i % (C / 2)) + (i < N / 2 ? 0 : C / 2)
      cls[i] = classIds[c]
      split[i] = i < N / 2 ? 0 : 1
      const path = `${String(c).padStart(3, '0')}.Some_Bird_Name/Some_Bird_Name_${i}_796111.jpg`
      ids[i] = Number(insImg.run(ds, classIds[c], path).lastInsertRowid)
      let norm = 0
      for (let f = 0; f < D; f++) {
        const v = centres[c * D + f] + 0.6 * (r() - 0.5)
        data[i * D + f] = v
        norm += v * v
      }
      for (let f = 0; f < D; f++) data[i * D + f] /= Math.sqrt(norm)
    }
  })()
  const runId = Number(
    db
      .prepare(
        `INSERT INTO runs (name, status, dataset_id, dataset_name, config, app_version, finished_at) VALUES ('b', 'completed', ?, 'b', '{}', '0', 'x')`
      )
      .run(ds).lastInsertRowid
  )
  const nTest = N - N / 2
  const insG = db.prepare('INSERT INTO run_gallery (run_id, idx, image_id) VALUES (?, ?, ?)')
  const insQ = db.prepare(
    'INSERT INTO run_queries (run_id, image_id, ap, correct_at1) VALUES (?, ?, ?, ?)'
  )
  db.transaction(() => {
    for (let k = 0; k < nTest; k++) {
      insG.run(runId, k, ids[N / 2 + k])
      insQ.run(runId, ids[N / 2 + k], 0.5, r() < 0.7 ? 1 : 0)
    }
  })()
  mkdirSync(dirname(galleryPath(ctx, runId)), { recursive: true })
  writeGallery(galleryPath(ctx, runId), data.subarray((N / 2) * D), nTest, D)

  const svc = createRetrievalService(ctx, {
    loadDatasetEmbeddings: async () => ({
      runId,
      dim: D,
      imageIds: ids,
      classIds: cls,
      split,
      data
    })
  })
  const out: Record<string, number | string> = {
    n: N,
    d: D,
    classes: C,
    umapFitLimit: UMAP_FIT_LIMIT
  }
  ;[out.testPcaColdSec] = await time(() =>
    svc.embeddingMap({ runId, method: 'pca', scope: 'test' })
  )
  ;[out.testPcaCachedSec] = await time(() =>
    svc.embeddingMap({ runId, method: 'pca', scope: 'test' })
  )
  let map: EmbeddingMap
  ;[out.datasetPcaColdSec, map] = await time(() =>
    svc.embeddingMap({ runId, method: 'pca', scope: 'dataset' })
  )
  ;[out.datasetPcaCachedSec] = await time(() =>
    svc.embeddingMap({ runId, method: 'pca', scope: 'dataset' })
  )
  ;[out.datasetUmapColdSec] = await time(() =>
    svc.embeddingMap({ runId, method: 'umap', scope: 'dataset' })
  )
  ;[out.datasetUmapCachedSec] = await time(() =>
    svc.embeddingMap({ runId, method: 'umap', scope: 'dataset' })
  )

  // Wire size: the columnar payload against one object per point with float coordinates.
  const [pcaRaw] = await time(() => JSON.stringify(map))
  out.payloadBytes = JSON.stringify(map).length
  out.payloadStringifyMs = pcaRaw * 1000
  const objects = map.imageIds.map((id, i) => ({
    imageId: id,
    classId: map.classIds[i],
    x: Math.sin(i) * 3.123456789,
    y: Math.cos(i) * 2.987654321,
    split: map.split[i],
    hit: map.hit[i],
    relPath: mapPathAt(map, i)
  }))
  out.objectsBytes = JSON.stringify(objects).length
  out.payloadRatio = Number((out.payloadBytes / out.objectsBytes).toFixed(3))

  out.rssMb = Math.round(process.memoryUsage().rss / 2 ** 20)
  svc.dispose()
  closeContext(ctx)
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(join(here, 'results'), { recursive: true })
  writeFileSync(join(here, 'results', 'map.json'), JSON.stringify(out, null, 2))
  console.log(out)
}

void main()
