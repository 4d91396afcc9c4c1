/**
 * Experiments: the paper's kinds of evidence on the user's own data.
 * - a sweep (one or two hyperparameters, one run per value or grid cell);
 * - the ablation set (HIST, its parts, and baseline losses on one dataset and backbone);
 * - the results table (best run of each loss on one dataset), exportable for a paper.
 * Every run of an experiment is an ordinary run, queued through the normal run queue.
 */
import { z } from 'zod'
import { Id, NoInput, type Metrics } from './common'
import { TrainConfig, type LossName, type RunStatus, type TrainConfigInput } from './runs'
import { checkSweepValues, SWEEP_PARAMS, type SweepParam } from './sweepValues'
import type { ServiceOf } from './define'

export * from './sweepValues'

/** One swept hyperparameter and its values (already parsed; see parseSweepValues). */
export const SweepAxis = z
  .object({
    param: z.enum(SWEEP_PARAMS),
    values: z.array(z.number()).min(1)
  })
  .superRefine((a, ctx) => {
    try {
      checkSweepValues(a.param, a.values)
    } catch (err) {
      ctx.addIssue({ code: 'custom', path: ['values'], message: (err as Error).message })
    }
  })
export type SweepAxis = z.infer<typeof SweepAxis>

/** The variants of the ablation set (the paper's self-evaluation). */
export const AblationVariant = z.enum([
  'hist',
  'hist-ds-only',
  'hist-ce-only',
  'hist-graph',
  'normalized-softmax',
  'proxy-anchor',
  'multi-similarity'
])
export type AblationVariant = z.infer<typeof AblationVariant>

/** What each ablation variant is, in words, and the config fields it sets over the base. */
export const ABLATION_VARIANTS: Record<
  AblationVariant,
  { label: string; description: string; patch: Partial<TrainConfigInput> }
> = {
  hist: {
    label: 'HIST',
    description: 'the full loss: L_ds + λs·CE(HGNN on the hypergraph)',
    patch: { loss: 'hist', histDs: true, histGraph: 'hypergraph' }
  },
  'hist-ds-only': {
    label: 'L_ds only',
    description: 'the distribution loss alone (λs = 0)',
    patch: { loss: 'hist', ls: 0, histDs: true, histGraph: 'hypergraph' }
  },
  'hist-ce-only': {
    label: 'hypergraph CE only',
    description: 'the HGNN cross-entropy alone, no distribution term',
    patch: { loss: 'hist', histDs: false, histGraph: 'hypergraph' }
  },
  'hist-graph': {
    label: 'HIST, plain graph',
    description: 'HIST with a pairwise sample graph in place of the hypergraph',
    patch: { loss: 'hist', histDs: true, histGraph: 'graph' }
  },
  'normalized-softmax': {
    label: 'Normalized Softmax',
    description: 'classification-based',
    patch: { loss: 'normalized-softmax' }
  },
  'proxy-anchor': {
    label: 'Proxy-Anchor',
    description: 'proxy-based',
    patch: { loss: 'proxy-anchor' }
  },
  'multi-similarity': {
    label: 'Multi-Similarity',
    description: 'pair-based',
    patch: { loss: 'multi-similarity', sampler: 'balanced' }
  }
}

export type ExperimentKind = 'sweep' | 'ablation'

/** Aggregate status of an experiment's runs. */
export type ExperimentStatus =
  'queued' | 'running' | 'completed' | 'partial' | 'failed' | 'cancelled'

/** One run of an experiment: a sweep value (or grid cell), or an ablation variant. */
export interface ExperimentPoint {
  ordinal: number
  /** e.g. "tau=8" or "tau=8, alpha=1.1" or "L_ds only". */
  label: string
  /** The swept values of this point (empty for an ablation variant). */
  values: Partial<Record<SweepParam, number>>
  variant: AblationVariant | null
  /** null when the run was removed. */
  runId: number | null
  status: RunStatus | 'removed'
  epochsDone: number
  epochs: number
  /** Test metrics of the untrained model. */
  baselineMetrics: Metrics | null
  /** Test metrics of the selected epoch's model. */
  testMetrics: Metrics | null
}

export interface ExperimentSummary {
  id: number
  kind: ExperimentKind
  name: string
  datasetId: number
  datasetName: string
  /** The swept axes (empty for an ablation set). */
  axes: SweepAxis[]
  status: ExperimentStatus
  /** Runs that ended (completed, failed, cancelled or removed) and all runs. */
  done: number
  total: number
  createdAt: string
}

export interface ExperimentDetail extends ExperimentSummary {
  /** The base config every point starts from (before its values or variant). */
  base: TrainConfig
  points: ExperimentPoint[]
}

/** One row of the results table: the best run of one loss (or HIST variant). */
export interface ResultsRow {
  /** The loss, with the HIST variant when it is not full HIST. */
  method: string
  loss: LossName
  runId: number
  runName: string
  backbone: string
  embeddingSize: number
  frozen: boolean
  metrics: Metrics
}

export interface ResultsTable {
  datasetId: number
  datasetName: string
  /** The Recall@K columns (1, 2, 4, 8; or the SOP Ks when the runs report them). */
  ks: number[]
  /** Sorted by R@1, best first. */
  rows: ResultsRow[]
  /** The same table, ready to paste. */
  markdown: string
  csv: string
  latex: string
}

export const experimentsSchemas = {
  list: NoInput,
  get: z.object({ id: Id }),
  /** Queues one run per value (one axis) or per grid cell (two axes). */
  createSweep: z.object({
    base: TrainConfig,
    axes: z
      .array(SweepAxis)
      .min(1)
      .max(2)
      .refine((a) => a.length < 2 || a[0].param !== a[1].param, {
        message: 'the two axes of a grid must be different parameters'
      }),
    name: z.string().max(200).optional()
  }),
  /** Queues the ablation set (all variants unless some are chosen) on one dataset and backbone. */
  createAblation: z.object({
    base: TrainConfig,
    variants: z.array(AblationVariant).min(1).optional(),
    name: z.string().max(200).optional()
  }),
  /** Stops the experiment's running run and cancels its queued ones. */
  cancel: z.object({ id: Id }),
  /** Forgets the experiment; its runs stay (they are ordinary runs). */
  remove: z.object({ id: Id }),
  /** The best completed run of each loss on one dataset, with export text. */
  resultsTable: z.object({ datasetId: Id })
} as const

/** The experiments service: payloads from `experimentsSchemas`, results named here (see define.ts). */
export type ExperimentsService = ServiceOf<
  typeof experimentsSchemas,
  {
    list: ExperimentSummary[]
    get: ExperimentDetail
    createSweep: ExperimentDetail
    createAblation: ExperimentDetail
    cancel: void
    remove: void
    resultsTable: ResultsTable
  }
>
