/**
 * `runs.evaluateBest`: a run that stopped early (stopped by the user, or failed after at least
 * one epoch) still has a best checkpoint. This evaluates it on the test split, the way the
 * trainer evaluates a finished run (per-query results and the gallery file), so that the run gets
 * test metrics, a place in Retrieval and honest rows in Compare. The run keeps its status; its
 * `testFrom` says 'best-checkpoint'. The test images are embedded in a worker thread
 * (workerModel.ts), so that the main process (Electron's IPC, the web server) stays responsive.
 */
import { ConflictError } from '../../src-preload/contract/errors'
import { getDatasetItems } from '../datasets/queries'
import { datasetsRepo } from '../datasets/repo'
import { evaluate, toMetrics, writeGallery } from '../ml/eval'
import type { AppContext } from '../app/context'
import { recallKs } from './jobs'
import { galleryPath } from './paths'
import type { RunModel } from './inference'
import type { RunsRepo } from './repo'
import { loadRunModelInWorker } from './workerModel'

/** A run's state does not allow evaluating its best checkpoint. */
export class NotEvaluableError extends ConflictError {
  override name = 'NotEvaluableError'
}

/** Options of evaluateBestCheckpoint. */
export interface EvaluateBestOptions {
  /**
   * Loads the run's selected model; defaults to the model in a worker thread. Tests inject
   * runs/inference's in-process loadRunModel to compare.
   */
  loadModel?: (ctx: AppContext, runId: number) => Promise<RunModel>
}

/** Evaluates the best checkpoint of a stopped or failed run on test and stores the result. */
export async function evaluateBestCheckpoint(
  ctx: AppContext,
  repo: RunsRepo,
  runId: number,
  opts: EvaluateBestOptions = {}
): Promise<void> {
  const run = repo.get(runId)
  if (run.status !== 'cancelled' && run.status !== 'failed' && run.status !== 'paused')
    throw new NotEvaluableError(
      `run ${runId} is ${run.status}; only a stopped, failed or paused run's best checkpoint is evaluated this way`
    )
  if (run.testFrom === 'final')
    throw new NotEvaluableError(`run ${runId} already has the test metrics of its final model`)
  const st = repo.resumeState(runId)
  if (!st.bestCheckpoint && !st.checkpoint)
    throw new NotEvaluableError(
      `run ${runId} has no checkpoint: no epoch finished before it stopped`
    )
  if (!run.datasetId) throw new NotEvaluableError(`run ${runId}'s dataset was removed`)
  const items = getDatasetItems(ctx, run.datasetId, 'test', run.config.split)
  if (items.length < 2) throw new NotEvaluableError(`run ${runId}'s test split has under 2 images`)
  const format = datasetsRepo(ctx.db).getDataset(run.datasetId)?.format ?? ''
  const model = await (opts.loadModel ?? loadRunModelInWorker)(ctx, runId)
  try {
    const emb = await model.embed(items.map((i) => i.absPath))
    const labels = Int32Array.from(items, (i) => i.classId)
    const r = await evaluate(emb, items.length, model.dim, labels, {
      ks: recallKs(format, items.length),
      nmi: true,
      seed: run.config.seed,
      perQuery: true,
      normalized: true
    })
    writeGallery(galleryPath(ctx, runId), emb, items.length, model.dim)
    const pq = r.perQuery!
    const queries: { imageId: number; ap: number; correctAt1: boolean }[] = []
    for (let t = 0; t < pq.index.length; t++) {
      if (Number.isNaN(pq.apAtR[t])) continue
      queries.push({
        imageId: items[pq.index[t]].imageId,
        ap: pq.apAtR[t],
        correctAt1: pq.correctAt1[t] === 1
      })
    }
    repo.commitResult(runId, {
      testMetrics: toMetrics(r),
      galleryImageIds: items.map((i) => i.imageId),
      queries,
      from: 'best-checkpoint'
    })
    repo.log(
      runId,
      'info',
      `Best checkpoint (epoch ${run.bestEpoch ?? st.epochsDone}) evaluated on test: R@1 ${((toMetrics(r).recall['1'] ?? 0) * 100).toFixed(2)}.`
    )
  } finally {
    model.dispose()
  }
}
