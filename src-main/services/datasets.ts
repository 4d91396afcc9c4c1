/**
 * The datasets service: the DatasetsService contract over the datasets code in
 * src-main/datasets. Imports run as background jobs (`job` events with progress, then
 * `datasets.changed`); every other call is quick and synchronous on the one DB connection.
 */
import {
  NotFoundError,
  type DatasetDetail,
  type DatasetsService,
  type DatasetSummary,
  type ImagePage,
  type SplitSpec
} from '../../src-preload/contract'
import { removeDemoFiles, ensureDemo } from '../datasets/demo'
import { locateDataset } from '../datasets/formats'
import { importDataset } from '../datasets/importer'
import { relinkDataset } from '../datasets/relink'
import {
  datasetDetail,
  datasetSummary,
  listDatasets,
  listImages,
  requireDataset
} from '../datasets/queries'
import { datasetsRepo } from '../datasets/repo'
import { computeSplit } from '../datasets/split'
import { removeDatasetThumbnails } from '../datasets/thumbnails'
import type { AppContext } from '../app/context'
import { ConflictError } from '../../src-preload/contract'
import { RunRecoveryRepo } from '../runs/recoveryRepo'

/** Applies a split spec to a dataset's classes and stores it; throws InvalidError when it does not fit. */
export function applySplit(ctx: AppContext, id: number, spec: SplitSpec): DatasetSummary {
  const repo = datasetsRepo(ctx.db)
  requireDataset(repo, id)
  const sides = computeSplit(
    spec,
    repo
      .classes(id)
      .map((c) => ({ id: c.id, ordinal: c.ordinal, group: c.grp, presetSplit: c.preset_split }))
  )
  repo.tx(() => {
    for (const [cid, side] of sides) repo.setClassSplit(cid, side)
    repo.setSplitSpec(id, JSON.stringify(spec))
  })
  return datasetSummary(ctx, id)
}

/** Deletes a dataset's records and thumbnails (never the user's image files). */
export async function removeDataset(ctx: AppContext, id: number): Promise<void> {
  const repo = datasetsRepo(ctx.db)
  const row = requireDataset(repo, id)
  // A run that still trains (or will) on the dataset needs its images: refuse (409). The check
  // and the delete share one transaction, so a run created meanwhile cannot slip in between.
  // Finished runs keep their records and the dataset's name; their dataset id becomes NULL.
  const runs = new RunRecoveryRepo(ctx.db)
  repo.tx(() => {
    const busy = runs.unfinishedOnDataset(id)
    if (busy.length) {
      const list = busy.map((r) => `#${r.id} (${r.status})`).join(', ')
      throw new ConflictError(
        `dataset ${id} (${row.name}) is in use by run${busy.length > 1 ? 's' : ''} ${list}; stop or remove ${busy.length > 1 ? 'them' : 'it'} first`
      )
    }
    repo.deleteDataset(id)
  })
  await removeDatasetThumbnails(ctx, id)
  // The demo's PNGs were written by the app into its data folder; they go with it.
  if (row.built_in === 1) await removeDemoFiles(ctx, row.root)
}

/** Builds the datasets service over an app context. */
export function createDatasetsService(ctx: AppContext): DatasetsService {
  const changed = (): void => ctx.events.emit({ type: 'datasets.changed' })
  return {
    async list(): Promise<DatasetSummary[]> {
      return listDatasets(ctx)
    },

    async get({ id }): Promise<DatasetDetail> {
      return datasetDetail(ctx, id)
    },

    async startImport(req): Promise<{ jobId: string }> {
      // Fail fast on a missing path or a forced format that does not fit; problems inside the
      // dataset are reported by the job.
      await locateDataset(req.path, req.format)
      const jobId = ctx.jobs.start('import', `Importing ${req.path}`, async (job) => {
        const res = await importDataset(ctx, req, {
          signal: job.signal,
          onProgress: (done, total, message) => job.progress(done, total, message)
        })
        changed()
        return { targetId: res.dataset.id }
      })
      return { jobId }
    },

    async cancelJob({ jobId }): Promise<void> {
      try {
        ctx.jobs.cancel(jobId)
      } catch (err) {
        throw new NotFoundError((err as Error).message)
      }
    },

    async images(p): Promise<ImagePage> {
      return listImages(ctx, p)
    },

    async rename({ id, name }): Promise<DatasetSummary> {
      const repo = datasetsRepo(ctx.db)
      requireDataset(repo, id)
      repo.rename(id, name.trim() || name)
      changed()
      return datasetSummary(ctx, id)
    },

    async relink({ id, root }): Promise<DatasetSummary> {
      const res = await relinkDataset(ctx, id, root)
      changed()
      return res
    },

    async remove({ id }): Promise<void> {
      await removeDataset(ctx, id)
      changed()
    },

    async setSplit({ id, split }): Promise<DatasetSummary> {
      const res = applySplit(ctx, id, split)
      changed()
      return res
    },

    async ensureDemo(): Promise<DatasetSummary> {
      const before = datasetsRepo(ctx.db).findBuiltIn()
      const res = await ensureDemo(ctx)
      if (!before || before.id !== res.id) changed()
      return res
    }
  }
}
