/**
 * A runs row as the API shows it: parsed config and metrics, every metrics object labelled with
 * the split it was measured on, and the below-baseline flag.
 */
import type { Metrics, MetricsSplit } from '../../src-preload/contract/common'
import type { RunStatus, RunSummary, TrainConfig } from '../../src-preload/contract/runs'

/** One row of the runs table. */
export interface RunRow {
  id: number
  name: string
  status: RunStatus
  dataset_id: number | null
  dataset_name: string
  config: string
  backend: string
  app_version: string
  created_at: string
  started_at: string | null
  finished_at: string | null
  message: string | null
  best_epoch: number | null
  best_metrics: string | null
  baseline_metrics: string | null
  test_metrics: string | null
  raw_metrics: string | null
  test_from: string | null
  epochs_done: number
  dir: string | null
  checkpoint: string | null
  best_checkpoint: string | null
  prev_checkpoint: string | null
  checkpoint_step: number
  owner_pid: number | null
  crash_count: number
  tags: string
  note: string
}

/** The split the per-epoch (model-selection) metrics of a config are measured on. */
export function selectionSplit(config: Pick<TrainConfig, 'modelSelection'>): MetricsSplit {
  return config.modelSelection === 'test' ? 'test' : 'validation'
}

/** Parses a stored metrics object and labels it with its split (a stored label wins). */
export function labelled(s: string | null, split: MetricsSplit): Metrics | null {
  if (s === null) return null
  const m = JSON.parse(s) as Metrics
  return { ...m, split: m.split ?? split }
}

/**
 * True when a trained model's test R@1 is below the untrained model's (training hurt): the
 * run list and detail flag it rather than showing a neutral "completed".
 */
export function isBelowBaseline(test: Metrics | null, baseline: Metrics | null): boolean {
  const t = test?.recall['1']
  const b = baseline?.recall['1']
  return t !== undefined && b !== undefined && t < b
}

export function toSummary(r: RunRow): RunSummary {
  const config = JSON.parse(r.config) as TrainConfig
  const baselineMetrics = labelled(r.baseline_metrics, 'test')
  const testMetrics = labelled(r.test_metrics, 'test')
  return {
    id: r.id,
    name: r.name,
    status: r.status,
    datasetId: r.dataset_id,
    datasetName: r.dataset_name,
    config,
    backend: r.backend,
    appVersion: r.app_version,
    createdAt: r.created_at,
    finishedAt: r.finished_at,
    message: r.message,
    bestEpoch: r.best_epoch,
    bestMetrics: labelled(r.best_metrics, selectionSplit(config)),
    baselineMetrics,
    testMetrics,
    rawMetrics: labelled(r.raw_metrics, 'test'),
    testFrom: r.test_metrics === null ? null : r.test_from === 'best-checkpoint' ? 'best-checkpoint' : 'final',
    belowBaseline: isBelowBaseline(testMetrics, baselineMetrics),
    epochsDone: r.epochs_done,
    tags: JSON.parse(r.tags) as string[],
    note: r.note
  }
}
