/**
 * `hist eval`: evaluates a run's model on its test split. A finished run is evaluated from its
 * saved gallery embeddings (exact and fast); an unfinished one with a checkpoint embeds the
 * test images with the checkpoint's model first.
 */
import { existsSync } from 'node:fs'
import type { Metrics } from '../../src-preload/contract/common'
import { getDatasetItems } from '../datasets/queries'
import { datasetsRepo } from '../datasets/repo'
import { evaluate, readGallery, toMetrics } from '../ml/eval'
import type { AppContext } from '../app/context'
import { recallKs } from './jobs'
import { galleryPath } from './paths'
import { RunsRepo } from './repo'

/** Test metrics of a run's selected (or latest) model. */
export async function evaluateRun(ctx: AppContext, runId: number): Promise<Metrics> {
  const repo = new RunsRepo(ctx.db)
  const run = repo.get(runId)
  const format = (run.datasetId ? datasetsRepo(ctx.db).getDataset(run.datasetId)?.format : '') ?? ''
  const file = galleryPath(ctx, runId)
  if (existsSync(file)) {
    const ids = repo.galleryImageIds(runId)
    const g = readGallery(file, { n: ids.length })
    const classOf = repo.galleryClassOf(runId)
    if (classOf.size !== ids.length)
      throw new Error(`run ${runId}: some gallery images are no longer in the dataset`)
    const labels = Int32Array.from(ids, (id) => classOf.get(id)!)
    return toMetrics(
      await evaluate(g.data, g.n, g.d, labels, {
        ks: recallKs(format, g.n),
        nmi: true,
        seed: run.config.seed,
        normalized: true
      })
    )
  }
  if (!run.datasetId) throw new Error(`run ${runId} has no gallery and its dataset is gone`)
  const items = getDatasetItems(ctx, run.datasetId, 'test', run.config.split)
  const { loadRunModel } = await import('./inference')
  const model = await loadRunModel(ctx, runId)
  try {
    const emb = await model.embed(items.map((i) => i.absPath))
    const labels = Int32Array.from(items, (i) => i.classId)
    return toMetrics(
      await evaluate(emb, items.length, model.dim, labels, {
        ks: recallKs(format, items.length),
        nmi: true,
        seed: run.config.seed,
        normalized: true
      })
    )
  } finally {
    model.dispose()
  }
}
