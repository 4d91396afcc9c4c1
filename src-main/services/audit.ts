/**
 * The audit service: label-mistake candidates and near duplicates of a run's dataset, found
 * through the run's embeddings of every image (train and test; retrieval/datasetEmbeddings.ts
 * embeds and caches them). The work is a job ('audit', its target the run) so that progress
 * reaches the renderer as `job` events while the call is pending.
 */
import type { z } from 'zod'
import type {
  AuditImage,
  AuditReport,
  AuditService,
  DuplicatePairDto,
  MislabelCandidateDto
} from '../../src-preload/contract/audit'
import { auditCaution, type auditSchemas } from '../../src-preload/contract/audit'
import { ConflictError, NotFoundError } from '../../src-preload/contract/errors'
import type { AppContext } from '../app/context'
import type { JobHandle } from '../app/jobs'
import { auditEmbeddings, SPLIT_TEST, type AuditResult } from '../audit'
import { DatasetsRepo } from '../datasets/repo'
import { RunsRepo } from '../runs/repo'
import { loadDatasetEmbeddings, type DatasetEmbeddings } from '../retrieval/datasetEmbeddings'

/** Loads a run's embeddings of its whole dataset (injected in tests). */
export type EmbeddingsLoader = (
  ctx: AppContext,
  runId: number,
  opts?: { onProgress?: (done: number, total: number) => void; signal?: AbortSignal }
) => Promise<DatasetEmbeddings>

/** Options of `createAuditService`. */
export interface AuditServiceOptions {
  /** Default: loadDatasetEmbeddings. */
  loadEmbeddings?: EmbeddingsLoader
}

/** The validated `audit.report` payload (defaults applied at the edge). */
type ReportRequest = z.output<(typeof auditSchemas)['report']>

/**
 * Runs `fn` as a job of the app's runner and resolves with its result (or rejects with its
 * error; a ConflictError when the job was cancelled) once the job has ended, so its last event
 * goes out before the reply.
 */
async function asJob<T>(
  ctx: AppContext,
  message: string,
  targetId: number,
  fn: (job: JobHandle) => Promise<T>
): Promise<T> {
  type Outcome = { ok: true; value: T } | { ok: false; error: unknown }
  let outcome: Outcome | null = null
  const id = ctx.jobs.start(
    'audit',
    message,
    async (job) => {
      try {
        outcome = { ok: true, value: await fn(job) }
      } catch (error) {
        // A cancel (datasets.cancelJob) is the caller's doing, not a failure of the service.
        const err = job.signal.aborted ? new ConflictError(`${message} was cancelled`) : error
        outcome = { ok: false, error: err }
        throw err
      }
    },
    targetId
  )
  await ctx.jobs.wait(id)
  // Assigned in the job's callback, which TypeScript's flow analysis does not see.
  const done = outcome as Outcome | null
  if (!done) throw new Error(`audit job ${id} ended without a result`)
  if (!done.ok) throw done.error
  return done.value
}

/** Builds the audit service over the app context. */
export function createAuditService(ctx: AppContext, opts: AuditServiceOptions = {}): AuditService {
  const runs = new RunsRepo(ctx.db)
  const datasets = new DatasetsRepo(ctx.db)
  const load = opts.loadEmbeddings ?? loadDatasetEmbeddings

  /** ImageRef of each row (throws when the dataset lost an embedded image since). */
  function imagesOf(datasetId: number, emb: DatasetEmbeddings): AuditImage[] {
    const classes = new Map(datasets.classes(datasetId).map((c) => [c.id, c.name]))
    const rows = new Map(datasets.images(datasetId).map((r) => [r.id, r]))
    return Array.from(emb.imageIds, (id, row) => {
      const r = rows.get(id)
      const className = r ? classes.get(r.class_id) : undefined
      if (!r || className === undefined)
        throw new NotFoundError(
          `image ${id} of run ${emb.runId}'s embeddings is no longer in dataset ${datasetId}; re-evaluate the run`
        )
      return {
        id,
        datasetId,
        classId: r.class_id,
        className,
        relPath: r.rel_path,
        split: emb.split[row] === SPLIT_TEST ? 'test' : 'train'
      }
    })
  }

  function toReport(
    req: ReportRequest,
    datasetId: number,
    emb: DatasetEmbeddings,
    res: AuditResult,
    seconds: { load: number; scan: number },
    testRecall1: number | null
  ): AuditReport {
    const images = imagesOf(datasetId, emb)
    const className = new Map(images.map((i) => [i.classId, i.className]))
    const mislabels = res.mislabels.slice(0, req.limit).map((c): MislabelCandidateDto => ({
      image: images[c.row],
      score: c.score,
      dominantClassId: c.dominantLabel,
      dominantClassName: className.get(c.dominantLabel) ?? `class ${c.dominantLabel}`,
      dominantShare: c.dominantShare,
      judged: c.judged,
      neighbours: c.neighbours.map((nb) => ({ image: images[nb.row], similarity: nb.similarity }))
    }))
    const duplicates = res.duplicates.slice(0, req.limit).map((p): DuplicatePairDto => ({
      a: images[p.a],
      b: images[p.b],
      similarity: p.similarity,
      leak: p.leak,
      sameClass: p.sameLabel
    }))
    return {
      runId: req.runId,
      datasetId,
      images: images.length,
      dim: emb.dim,
      k: req.k,
      threshold: req.threshold,
      minScore: req.minScore,
      mislabelTotal: res.mislabels.length,
      mislabels,
      duplicateTotal: res.pairsTotal,
      leakTotal: res.duplicates.filter((p) => p.leak).length,
      duplicates,
      duplicatesTruncated: res.pairsTotal > res.duplicates.length,
      loadSeconds: seconds.load,
      scanSeconds: seconds.scan,
      testRecall1,
      caution: auditCaution({
        testRecall1,
        candidates: res.mislabels.length,
        images: images.length
      })
    }
  }

  return {
    async report(req) {
      const run = runs.get(req.runId)
      if (run.datasetId === null)
        throw new NotFoundError(`run ${run.id}'s dataset was removed; there is nothing to audit`)
      const datasetId = run.datasetId
      return asJob(ctx, `Audit of run ${run.id}`, run.id, async (job) => {
        const t0 = performance.now()
        const emb = await load(ctx, run.id, {
          signal: job.signal,
          onProgress: (done, total) => job.progress(done, total, 'Embedding the images')
        })
        const t1 = performance.now()
        const res = await auditEmbeddings(
          {
            data: emb.data,
            n: emb.imageIds.length,
            d: emb.dim,
            labels: emb.classIds,
            split: emb.split
          },
          {
            k: req.k,
            threshold: req.threshold,
            minScore: req.minScore,
            signal: job.signal,
            onProgress: (done, total) => job.progress(done, total, 'Comparing the images')
          }
        )
        const seconds = { load: (t1 - t0) / 1000, scan: (performance.now() - t1) / 1000 }
        const r1 = run.testMetrics?.recall['1'] ?? null
        return toReport(req, datasetId, emb, res, seconds, r1)
      })
    }
  }
}
