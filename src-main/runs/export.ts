/**
 * Run bundles: one folder with everything a run produced, readable without the app and
 * importable on another machine (`hist import-run <dir>`).
 *
 *   manifest.json     format marker, app version, file list
 *   config.json       the TrainConfig snapshot, dataset, split, backbone, backend, seed, version
 *   metrics.json      baseline (untrained) and test metrics, best epoch, per-epoch metrics
 *   history.json      per-step records and the run log
 *   model.ckpt        the selected checkpoint (weights of every trained part + optimiser state)
 *   embeddings.npy    gallery (test) embeddings, float32 [n, d], L2-normalised
 *   embeddings.csv    the same with image id, class and path columns
 *   gallery.json      row → image id, class name, relative path
 *   queries.json      per-query average precision and correct@1
 */
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { z } from 'zod'
import type { Metrics } from '../../src-preload/contract/common'
import {
  TrainConfig,
  type EpochRecord,
  type RunLogEntry,
  type StepRecord
} from '../../src-preload/contract/runs'
import { InvalidError } from '../../src-preload/contract/errors'
import { readGallery, writeGallery } from '../ml/eval/gallery'
import { verifyCheckpoint } from '../ml/train/checkpoints'
import { readJsonSafely } from '../ml/util/safeFile'
import type { AppContext } from '../app/context'
import { datasetsRepo } from '../datasets/repo'
import { readNpy, writeNpy } from './npy'
import { GALLERY_FILE } from './paths'
import { RunsRepo, type QueryRecord } from './repo'

/** Marker of the bundle format. */
export const BUNDLE_FORMAT = 'hist-studio-run'
/** Bundle format version. */
export const BUNDLE_VERSION = 1

interface GalleryRow {
  idx: number
  imageId: number
  className: string
  relPath: string
}

/** Quotes a CSV field when needed (RFC 4180). */
function csvField(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

/** Writes embeddings as CSV: image_id, class, path, e0..e{d-1}. */
export function embeddingsCsv(rows: GalleryRow[], data: Float32Array, d: number): string {
  const head = ['image_id', 'class', 'path', ...Array.from({ length: d }, (_, j) => `e${j}`)].join(
    ','
  )
  const lines = [head]
  for (let i = 0; i < rows.length; i++) {
    const vals = Array.from(data.subarray(i * d, (i + 1) * d), (v) => String(v))
    lines.push(
      [
        String(rows[i].imageId),
        csvField(rows[i].className),
        csvField(rows[i].relPath),
        ...vals
      ].join(',')
    )
  }
  return lines.join('\n') + '\n'
}

/** Folder-name-safe form of a run name. */
function slug(s: string): string {
  return (
    s
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 40) || 'run'
  )
}

/** Writes a run's bundle into `outDir/run-<id>-<name>/` and returns its path. */
export function exportRunBundle(
  ctx: AppContext,
  repo: RunsRepo,
  runId: number,
  outDir: string
): string {
  const run = repo.detail(runId)
  const st = repo.resumeState(runId)
  const dir = join(outDir, `run-${runId}-${slug(run.name)}`)
  mkdirSync(dir, { recursive: true })
  const files: string[] = []
  const write = (name: string, text: string): void => {
    writeFileSync(join(dir, name), text)
    files.push(name)
  }
  write(
    'config.json',
    JSON.stringify(
      {
        config: run.config,
        dataset: { id: run.datasetId, name: run.datasetName },
        split: run.config.split,
        backbone: run.config.backbone,
        backend: run.backend,
        seed: run.config.seed,
        appVersion: run.appVersion,
        createdAt: run.createdAt
      },
      null,
      2
    )
  )
  write(
    'metrics.json',
    JSON.stringify(
      {
        status: run.status,
        baselineMetrics: run.baselineMetrics,
        testMetrics: run.testMetrics,
        bestEpoch: run.bestEpoch,
        bestMetrics: run.bestMetrics,
        epochsDone: run.epochsDone,
        epochs: run.epochs
      },
      null,
      2
    )
  )
  write('history.json', JSON.stringify({ steps: run.steps, log: run.log }))
  const ckpt = st.bestCheckpoint ?? st.checkpoint
  if (ckpt && st.dir && existsSync(join(st.dir, ckpt))) {
    // The run's checkpoint must verify before it is exported, and so must the copy.
    verifyCheckpoint(join(st.dir, ckpt))
    copyFileSync(join(st.dir, ckpt), join(dir, 'model.ckpt'))
    verifyCheckpoint(join(dir, 'model.ckpt'))
    files.push('model.ckpt')
  }
  const galleryFile = st.dir ? join(st.dir, GALLERY_FILE) : null
  if (galleryFile && existsSync(galleryFile)) {
    const g = readGallery(galleryFile)
    const rows = repo.galleryRows(runId)
    if (rows.length !== g.n)
      throw new Error(
        `run ${runId}: the gallery file has ${g.n} rows but the database lists ${rows.length}`
      )
    writeNpy(join(dir, 'embeddings.npy'), g.data, [g.n, g.d])
    files.push('embeddings.npy')
    write('embeddings.csv', embeddingsCsv(rows, g.data, g.d))
    write('gallery.json', JSON.stringify(rows))
    write('queries.json', JSON.stringify(repo.queries(runId)))
  }
  files.push('manifest.json')
  writeFileSync(
    join(dir, 'manifest.json'),
    JSON.stringify(
      {
        format: BUNDLE_FORMAT,
        version: BUNDLE_VERSION,
        appVersion: ctx.appVersion,
        exportedAt: new Date().toISOString(),
        runId,
        name: run.name,
        files
      },
      null,
      2
    )
  )
  return dir
}

const MetricsZ = z.object({
  recall: z.record(z.string(), z.number()),
  rPrecision: z.number(),
  mapAtR: z.number(),
  nmi: z.number().optional(),
  excludedQueries: z.number().optional()
})
const ManifestZ = z.object({
  format: z.literal(BUNDLE_FORMAT),
  version: z.number().int().max(BUNDLE_VERSION),
  name: z.string(),
  files: z.array(z.string())
})
const ConfigFileZ = z.object({
  config: TrainConfig,
  dataset: z.object({ id: z.number().nullable(), name: z.string() }),
  backend: z.string(),
  appVersion: z.string(),
  createdAt: z.string().optional()
})
const MetricsFileZ = z.object({
  status: z.enum(['queued', 'running', 'paused', 'completed', 'failed', 'cancelled']),
  baselineMetrics: MetricsZ.nullable(),
  testMetrics: MetricsZ.nullable(),
  bestEpoch: z.number().int().nullable(),
  bestMetrics: MetricsZ.nullable(),
  epochsDone: z.number().int().min(0),
  epochs: z.array(
    z.object({
      epoch: z.number().int(),
      metrics: MetricsZ,
      seconds: z.number(),
      imagesPerSec: z.number()
    })
  )
})
const HistoryZ = z.object({
  steps: z.array(
    z.object({
      step: z.number().int(),
      epoch: z.number().int(),
      loss: z.number(),
      lds: z.number().nullable(),
      ce: z.number().nullable(),
      lr: z.number()
    })
  ),
  log: z.array(
    z.object({ time: z.string(), level: z.enum(['info', 'warn', 'error']), message: z.string() })
  )
})
const GalleryZ = z.array(
  z.object({
    idx: z.number().int(),
    imageId: z.number().int(),
    className: z.string(),
    relPath: z.string()
  })
)
const QueriesZ = z.array(
  z.object({ imageId: z.number().int(), ap: z.number(), correctAt1: z.boolean() })
)

function readJson<T>(dir: string, name: string, schema: z.ZodType<T>): T {
  const file = join(dir, name)
  if (!existsSync(file)) throw new InvalidError(`not a run bundle: ${name} is missing in ${dir}`)
  // Never quote the file in an error (it may be anything the user pointed at).
  const r = schema.safeParse(readJsonSafely(file, `the run bundle's ${name}`))
  if (!r.success)
    throw new InvalidError(
      `run bundle ${name}: ${r.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`).join('; ')}`
    )
  return r.data
}

/** What an import did. */
export interface ImportRunResult {
  id: number
  name: string
  /** Dataset of this machine the run was linked to (by name), or null. */
  datasetId: number | null
  warnings: string[]
}

/**
 * Imports a bundle as a new finished run. The dataset is matched by name; when it is present
 * and its images match the bundle's gallery (by relative path), the gallery and per-query
 * results are linked to this machine's image ids so the retrieval browser works.
 */
export function importRunBundle(ctx: AppContext, dir: string): ImportRunResult {
  const manifest = readJson(dir, 'manifest.json', ManifestZ)
  const cfgFile = readJson(dir, 'config.json', ConfigFileZ)
  const metrics = readJson(dir, 'metrics.json', MetricsFileZ)
  const history = readJson(dir, 'history.json', HistoryZ)
  const repo = new RunsRepo(ctx.db)
  const warnings: string[] = []
  const datasets = datasetsRepo(ctx.db)
  const ds = datasets.listDatasets().find((d) => d.name === cfgFile.dataset.name)
  if (!ds)
    warnings.push(
      `no dataset named "${cfgFile.dataset.name}" here: import it to browse this run's retrievals`
    )
  const hasGallery =
    manifest.files.includes('embeddings.npy') && manifest.files.includes('gallery.json')
  let gallery: { ids: number[]; queries: QueryRecord[] } | null = null
  if (hasGallery && ds) {
    const rows = readJson(dir, 'gallery.json', GalleryZ)
    const byPath = new Map(datasets.images(ds.id).map((r) => [r.rel_path, r.id]))
    const ids = rows.map((r) => byPath.get(r.relPath))
    if (ids.every((x): x is number => x !== undefined)) {
      const oldToNew = new Map(rows.map((r, i) => [r.imageId, ids[i] as number]))
      const queries = manifest.files.includes('queries.json')
        ? readJson(dir, 'queries.json', QueriesZ).flatMap((q) =>
            oldToNew.has(q.imageId) ? [{ ...q, imageId: oldToNew.get(q.imageId)! }] : []
          )
        : []
      gallery = { ids: ids as number[], queries }
    } else {
      warnings.push(
        `${ids.filter((x) => x === undefined).length} gallery images are not in the local dataset "${cfgFile.dataset.name}"; retrievals cannot be browsed`
      )
    }
  }
  const config = { ...cfgFile.config, datasetId: ds?.id ?? cfgFile.config.datasetId }
  const name = `${manifest.name} (imported)`
  // Files first, into a staging folder, each verified; the run row only once all are in place.
  const stage = join(ctx.paths.runs, `.import-${process.pid}-${Date.now()}`)
  let hasModel: boolean
  try {
    hasModel = stageBundleFiles(dir, stage, manifest.files)
  } catch (err) {
    rmSync(stage, { recursive: true, force: true })
    throw err
  }
  let id = 0
  try {
    id = repo.transaction(() =>
      storeImportedRun(repo, {
        name,
        datasetId: ds?.id ?? null,
        config,
        cfgFile,
        metrics,
        history,
        gallery,
        hasModel,
        dir,
        runDir: (runId) => join(ctx.paths.runs, String(runId)),
        stage
      })
    )
  } finally {
    rmSync(stage, { recursive: true, force: true })
  }
  ctx.events.emit({ type: 'runs.changed' })
  return { id, name, datasetId: ds?.id ?? null, warnings }
}

/**
 * Copies the bundle's model and gallery into `stage`, verifying the checkpoint's checksum in
 * the bundle and in the copy; returns whether a model came along. A bundle whose manifest lists
 * model.ckpt but whose file is missing, truncated or damaged is refused (CheckpointError).
 */
function stageBundleFiles(dir: string, stage: string, files: string[]): boolean {
  mkdirSync(stage, { recursive: true })
  const hasModel = files.includes('model.ckpt')
  if (hasModel) {
    const src = join(dir, 'model.ckpt')
    verifyCheckpoint(src)
    copyFileSync(src, join(stage, 'model.ckpt'))
    verifyCheckpoint(join(stage, 'model.ckpt'))
  }
  if (files.includes('embeddings.npy')) {
    const npy = readNpy(join(dir, 'embeddings.npy'))
    if (!(npy.data instanceof Float32Array) || npy.shape.length !== 2)
      throw new InvalidError('run bundle embeddings.npy must be a float32 matrix')
    writeGallery(join(stage, GALLERY_FILE), npy.data, npy.shape[0], npy.shape[1])
  }
  return hasModel
}

/** Inserts the imported run and moves its staged files into its folder (inside a transaction). */
function storeImportedRun(
  repo: RunsRepo,
  p: {
    name: string
    datasetId: number | null
    config: TrainConfig
    cfgFile: z.infer<typeof ConfigFileZ>
    metrics: z.infer<typeof MetricsFileZ>
    history: z.infer<typeof HistoryZ>
    gallery: { ids: number[]; queries: QueryRecord[] } | null
    hasModel: boolean
    dir: string
    runDir: (id: number) => string
    stage: string
  }
): number {
  const { cfgFile, metrics, history, gallery, hasModel, dir } = p
  const id = repo.create({
    name: p.name,
    datasetId: p.datasetId,
    datasetName: cfgFile.dataset.name,
    config: p.config,
    appVersion: cfgFile.appVersion,
    backend: cfgFile.backend
  })
  const runDir = p.runDir(id)
  // A finished-looking run: a bundle of an unfinished run comes in as cancelled (it cannot resume here).
  const status =
    metrics.status === 'completed'
      ? 'completed'
      : metrics.status === 'failed'
        ? 'failed'
        : 'cancelled'
  repo.setDir(id, runDir)
  repo.importSummary(
    id,
    {
      status,
      message: `Imported from ${dir}`,
      bestEpoch: metrics.bestEpoch,
      bestMetrics: metrics.bestMetrics as Metrics | null,
      baselineMetrics: metrics.baselineMetrics as Metrics | null,
      testMetrics: metrics.testMetrics as Metrics | null,
      epochsDone: metrics.epochsDone,
      finishedAt: new Date().toISOString(),
      createdAt: cfgFile.createdAt ?? new Date().toISOString()
    },
    { checkpoint: hasModel ? 'model.ckpt' : null, best: hasModel ? 'model.ckpt' : null }
  )
  repo.importRecords(id, {
    steps: history.steps as StepRecord[],
    epochs: metrics.epochs as EpochRecord[],
    log: history.log as RunLogEntry[]
  })
  if (gallery) repo.importGallery(id, gallery.ids, gallery.queries)
  repo.setOwner(id, null)
  // Last: a kill before the commit leaves at most an unreferenced folder, never a half run.
  rmSync(runDir, { recursive: true, force: true })
  renameSync(p.stage, runDir)
  return id
}
