/**
 * From the database to a trainer job: the run's resolved split, its train and test images, the
 * Recall@K cut-offs, and where to resume. The trainer process never reads the database.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { SplitSpec } from '../../src-preload/contract/datasets'
import type { TrainConfig } from '../../src-preload/contract/runs'
import { getDatasetItems, requireDataset } from '../datasets/queries'
import { datasetsRepo } from '../datasets/repo'
import { computeSplit } from '../datasets/split'
import type { AppContext } from '../app/context'
import type { RunJob } from '../trainer/protocol'
import type { RunsRepo } from './repo'
import { RECALL_KS, RECALL_KS_SOP } from '../../src-preload/contract/common'

/** Recall@K cut-offs: SOP's 1, 10, 100, 1000 for large-scale formats, else 1..32; only K < n. */
export function recallKs(format: string, testCount: number): number[] {
  const ks = format === 'sop' ? RECALL_KS_SOP : RECALL_KS
  const usable = ks.filter((k) => k < testCount)
  return usable.length ? usable : [1]
}

/** The split a new run uses, and a warning when it had to choose one itself. */
export function resolveRunSplit(
  ctx: AppContext,
  datasetId: number,
  requested: SplitSpec
): { split: SplitSpec; warning: string | null } {
  if (requested.kind !== 'preset') return { split: requested, warning: null }
  const repo = datasetsRepo(ctx.db)
  const row = requireDataset(repo, datasetId)
  // The split the user set on the dataset (Datasets view) is "the dataset's protocol" for a run.
  const stored = JSON.parse(row.split_spec) as SplitSpec
  if (stored.kind !== 'preset') return { split: stored, warning: null }
  const classes = repo
    .classes(datasetId)
    .map((c) => ({ id: c.id, ordinal: c.ordinal, group: c.grp, presetSplit: c.preset_split }))
  const sides = [...computeSplit({ kind: 'preset' }, classes).values()]
  if (sides.includes('train') && sides.includes('test')) return { split: requested, warning: null }
  const fallback: SplitSpec = { kind: 'class-ratio', trainRatio: 0.5, seed: 1 }
  return {
    split: fallback,
    warning:
      'The dataset has no standard train/test split; half of its classes (seeded) train and the rest test.'
  }
}

/** Builds the trainer's job for a run (creating its folder). */
export function buildRunJob(ctx: AppContext, repo: RunsRepo, runId: number): RunJob {
  const run = repo.get(runId)
  const st = repo.resumeState(runId)
  if (!run.datasetId)
    throw new Error(`the dataset of run ${runId} (${run.datasetName}) no longer exists`)
  return buildJob(ctx, {
    runId,
    config: run.config,
    runDir: st.dir ?? join(ctx.paths.runs, String(runId)),
    checkpoint: st.checkpoint,
    hasBaseline: st.hasBaseline
  })
}

/** Builds a job from a config (runId 0 for a probe, which stores nothing), creating runDir. */
export function buildJob(
  ctx: AppContext,
  p: {
    runId: number
    config: TrainConfig
    runDir: string
    checkpoint: string | null
    hasBaseline: boolean
  }
): RunJob {
  const datasetId = p.config.datasetId
  const row = requireDataset(datasetsRepo(ctx.db), datasetId)
  const toItem = (i: {
    imageId: number
    absPath: string
    classId: number
    className: string
  }): RunJob['train'][number] => ({
    imageId: i.imageId,
    absPath: i.absPath,
    classId: i.classId,
    className: i.className
  })
  const train = getDatasetItems(ctx, datasetId, 'train', p.config.split).map(toItem)
  const test = getDatasetItems(ctx, datasetId, 'test', p.config.split).map(toItem)
  if (!train.length) throw new Error(`the split of ${row.name} has no training images`)
  if (!test.length) throw new Error(`the split of ${row.name} has no test images`)
  mkdirSync(p.runDir, { recursive: true })
  return {
    runId: p.runId,
    runDir: p.runDir,
    featuresDir: ctx.paths.features,
    modelsDir: ctx.paths.models,
    config: p.config,
    dataset: { id: row.id, name: row.name, format: row.format },
    train,
    test,
    ks: recallKs(row.format, test.length),
    checkpoint: p.checkpoint,
    hasBaseline: p.hasBaseline
  }
}
