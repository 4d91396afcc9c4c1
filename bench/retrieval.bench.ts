/**
 * Retrieval service figures on a synthetic gallery the size of the Omniglot test split
 * (2,500 × 512, 125 classes): one query, worst/perClass, PCA and UMAP maps (worker), cold and
 * cached. Writes bench/results/retrieval.json. Run: npx tsx bench/retrieval.bench.ts
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { writeGallery } from '../src-main/ml/eval/gallery'
import { mulberry32 } from '../src-main/ml/util/rng'
import { galleryPath } from '../src-main/runs/paths'
import { closeContext, createContext } from '../src-main/app/context'
import { createRetrievalService } from '../src-main/services/retrieval'

const N = Number(process.env.BENCH_N ?? 2500)
const D = 512
const C = 125
const here = dirname(fileURLToPath(import.meta.url))

async function time<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t0 = performance.now()
  const v = await fn()
  return [(performance.now() - t0) / 1000, v]
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'hist-retrieval-bench-'))
  const ctx = createContext(dir, 'cli')
  const db = ctx.db
  const ds = Number(
    db.prepare(`INSERT INTO datasets (name, root, format) VALUES ('b', ?, 'folder')`).run(dir)
      .lastInsertRowid
  )
  const classIds: number[] = []
  for (let c = 0; c < C; c++) {
    classIds.push(
      Number(
        db
          .prepare(
            `INSERT INTO classes (dataset_id, name, ordinal, split) VALUES (?, ?, ?, 'test')`
          )
          .run(ds, `c${c}`, c + 1).lastInsertRowid
      )
    )
  }
  const r = mulberry32(1)
  const centres = new Float32Array(C * D).map(() => r() - 0.5)
  const data = new Float32Array(N * D)
  const ids: number[] = []
  const cls: number[] = []
  const insImg = db.prepare(
    `INSERT INTO images (dataset_id, class_id, rel_path, size, mtime_ms, sha1) VALUES (?, ?, ?, 1, 0, 'x')`
  )
  db.transaction(() => {
    for (let i = 0; i < N; i++) {
      const c = i % C
      cls.push(c)
      ids.push(Number(insImg.run(ds, classIds[c], `c${c}/${i}.png`).lastInsertRowid))
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
  const insG = db.prepare('INSERT INTO run_gallery (run_id, idx, image_id) VALUES (?, ?, ?)')
  db.transaction(() => ids.forEach((id, idx) => insG.run(runId, idx, id)))()
  mkdirSync(dirname(galleryPath(ctx, runId)), { recursive: true })
  writeGallery(galleryPath(ctx, runId), data, N, D)

  const svc = createRetrievalService(ctx)
  const out: Record<string, number | string> = { n: N, d: D, classes: C }
  ;[out.firstQuerySec] = await time(() =>
    svc.query({ runId, imageId: ids[0], k: 16, gallery: 'test' })
  )
  const [warm] = await time(async () => {
    for (let i = 1; i <= 20; i++)
      await svc.query({ runId, imageId: ids[i * 7], k: 16, gallery: 'test' })
  })
  out.queryMs = (warm / 20) * 1000
  ;[out.worstComputedSec] = await time(() => svc.worst({ runId, limit: 20 }))
  ;[out.perClassSec] = await time(() => svc.perClass({ runId }))
  ;[out.pcaColdSec] = await time(() => svc.embeddingMap({ runId, method: 'pca', scope: 'test' }))
  ;[out.pcaCachedSec] = await time(() => svc.embeddingMap({ runId, method: 'pca', scope: 'test' }))
  ;[out.umapColdSec] = await time(() => svc.embeddingMap({ runId, method: 'umap', scope: 'test' }))
  ;[out.umapCachedSec] = await time(() => svc.embeddingMap({ runId, method: 'umap', scope: 'test' }))
  out.rssMb = Math.round(process.memoryUsage().rss / 2 ** 20)
  svc.dispose()
  closeContext(ctx)
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(join(here, 'results'), { recursive: true })
  writeFileSync(join(here, 'results', 'retrieval.json'), JSON.stringify(out, null, 2))
  console.log(out)
}

void main()
