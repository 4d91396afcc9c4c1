import { z } from 'zod'
import { Id, type Metrics } from './common'
import { SplitSpec } from './datasets'
import type { ServiceOf } from './define'
import { COMPUTE_DEVICES } from './system'

export const LossName = z.enum([
  'hist',
  'proxy-anchor',
  'normalized-softmax',
  'multi-similarity',
  'triplet'
])
export type LossName = z.infer<typeof LossName>

/** Where the feature extractor comes from. */
export const BackboneSpec = z.discriminatedUnion('kind', [
  /** MobileNetV2 (ImageNet) shipped offline by the nsfwjs package, feature map at `out_relu`. */
  z.object({ kind: z.literal('mobilenetv2') }),
  /** A small CNN trained from scratch, for small images such as Fashion-MNIST. */
  z.object({
    kind: z.literal('small-cnn'),
    inputSize: z.number().int().min(16).max(128).default(32)
  }),
  /** A local TF.js model (model.json); LayersModels train, GraphModels stay frozen. */
  z.object({
    kind: z.literal('local'),
    modelPath: z.string().min(1),
    featureNode: z.string().min(1),
    inputSize: z.number().int().min(16).max(1024).default(224),
    mean: z.tuple([z.number(), z.number(), z.number()]).default([0, 0, 0]),
    std: z.tuple([z.number(), z.number(), z.number()]).default([1, 1, 1])
  }),
  /** A downloadable ImageNet backbone from its official TF.js hosting, cached in the data folder. */
  z.object({ kind: z.literal('download'), name: z.string().min(1) })
])
export type BackboneSpec = z.infer<typeof BackboneSpec>

/**
 * Gradient accumulation when fine-tuning: 'auto' (split only when the backend's memory cannot
 * hold the batch, i.e. wasm at large inputs) or the images per micro-batch. The step stays exact
 * for the whole batch's loss (gradient cache, src-main/ml/train/accumulate.ts).
 */
export const MicroBatchSetting = z.union([z.literal('auto'), z.number().int().min(1).max(1024)])
export type MicroBatchSetting = z.infer<typeof MicroBatchSetting>

/** Every hyperparameter of a run. Defaults follow the official HIST code (CUB preset). */
export const TrainConfigFields = z.object({
  datasetId: Id,
  /** Class-disjoint split; 'preset' uses the dataset's standard protocol. */
  split: SplitSpec.default({ kind: 'preset' }),
  loss: LossName.default('hist'),
  backbone: BackboneSpec.default({ kind: 'mobilenetv2' }),
  /** Train only the head on cached backbone features. */
  frozen: z.boolean().default(true),
  embeddingSize: z.number().int().min(8).max(4096).default(512),
  epochs: z.number().int().min(1).max(1000).default(40),
  batchSize: z.number().int().min(4).max(1024).default(32),
  /**
   * Fine-tuning: images per backbone micro-batch ('auto' splits only when the batch would not
   * fit the backend's memory). The optimiser still takes one exact step per batch. No effect in
   * frozen mode (the head trains on features).
   */
  microBatch: MicroBatchSetting.default('auto'),
  lr: z.number().positive().max(1).default(1.2e-4),
  /** Learning rate of the prototypical distributions (HIST) or proxies. */
  lrDs: z.number().positive().max(10).default(1e-1),
  lrHgnnFactor: z.number().positive().max(1000).default(5),
  weightDecay: z.number().min(0).max(1).default(5e-5),
  optimizer: z.enum(['adam', 'adamw']).default('adam'),
  lrDecayStep: z.number().int().min(1).default(5),
  lrDecayGamma: z.number().gt(0).max(1).default(0.5),
  /** Warm-up epochs with the backbone frozen. */
  warm: z.number().int().min(0).default(1),
  bnFreeze: z.boolean().default(true),
  tau: z.number().positive().default(32),
  alpha: z.number().positive().default(1.1),
  /** λ_s, the weight of the HGNN cross-entropy. */
  ls: z.number().min(0).default(1),
  /** HIST: include the distribution loss L_ds (off = the hypergraph CE alone, for ablations). */
  histDs: z.boolean().default(true),
  /** HIST: the HGNN's graph: the semantic-tuplet hypergraph, or a plain pairwise sample graph (ablation). */
  histGraph: z.enum(['hypergraph', 'graph']).default('hypergraph'),
  hgnnHidden: z.number().int().min(4).max(4096).default(512),
  sampler: z.enum(['random', 'balanced']).default('random'),
  /** Images per class in a balanced batch. */
  ipc: z.number().int().min(2).max(64).default(4),
  seed: z.number().int().default(1),
  /**
   * Where to train and embed: 'auto' (a GPU when a hardware one is usable, else the CPU), 'gpu'
   * (tensorflow-gpu or WebGPU; the run fails with the reasons when neither works) or 'cpu'.
   */
  device: z.enum(COMPUTE_DEVICES).default('auto'),
  /**
   * How the final model is chosen. 'refit' (default): select the epoch count on a validation
   * split carved from the training classes, then train a fresh model on ALL training classes for
   * that many epochs (costs no training classes). 'val': keep the best validation epoch's model
   * (trained without the carved classes). 'test': the official code's choice, best epoch on test
   * (optimistic).
   */
  modelSelection: z.enum(['refit', 'val', 'test']).default('refit'),
  /** Share of training classes held out for validation (modelSelection 'refit' or 'val'). */
  valRatio: z.number().gt(0).lt(1).default(0.2),
  /**
   * Select on a validation split under 5 classes or 50 images anyway (no "unreliable" warning;
   * 'refit' does not skip the selection). Off by default, so a user run whose split is too
   * small is told; the demo preset sets it, since its 5 training classes leave 2 by design.
   */
  acceptSmallValidation: z.boolean().default(false),
  /** Margin (proxy-anchor, triplet) and scale parameters of the baseline losses. */
  margin: z.number().min(0).default(0.1),
  scale: z.number().positive().default(32),
  name: z.string().max(200).optional()
})

/** A run's config: the fields above plus the checks that relate two fields. */
export const TrainConfig = TrainConfigFields.superRefine((c, ctx) => {
  // A balanced batch holds batchSize / ipc whole classes.
  if (c.sampler === 'balanced' && c.batchSize % c.ipc !== 0) {
    ctx.addIssue({
      code: 'custom',
      path: ['batchSize'],
      message: `must be a multiple of the images per class (ipc = ${c.ipc}) with the balanced sampler`
    })
  }
  if (typeof c.microBatch === 'number') {
    if (c.microBatch > c.batchSize)
      ctx.addIssue({
        code: 'custom',
        path: ['microBatch'],
        message: `must be at most the batch size (${c.batchSize})`
      })
    // Training BatchNorm normalises by each micro-batch's own statistics: not the batch's step.
    else if (c.microBatch < c.batchSize && !c.frozen && !c.bnFreeze)
      ctx.addIssue({
        code: 'custom',
        path: ['microBatch'],
        message:
          "needs frozen BatchNorm (bnFreeze) when fine-tuning: training BatchNorm would use each micro-batch's statistics, not the batch's; use 'auto' or the batch size"
      })
  }
})
export type TrainConfig = z.output<typeof TrainConfig>
export type TrainConfigInput = z.input<typeof TrainConfig>

export type RunStatus = 'queued' | 'running' | 'paused' | 'completed' | 'failed' | 'cancelled'

export interface RunSummary {
  id: number
  name: string
  status: RunStatus
  /** Null when the dataset was removed; `datasetName` keeps the name it had. */
  datasetId: number | null
  datasetName: string
  config: TrainConfig
  backend: string
  appVersion: string
  createdAt: string
  finishedAt: string | null
  /** Why a run failed or stopped, in words for a user. */
  message: string | null
  bestEpoch: number | null
  bestMetrics: Metrics | null
  /** Test metrics of the untrained model and of the final (selected) model. */
  baselineMetrics: Metrics | null
  testMetrics: Metrics | null
  /** Test metrics of the raw (pooled, L2-normalised) backbone features; frozen runs only. */
  rawMetrics: Metrics | null
  /**
   * Which model `testMetrics` belong to: the run's final model, or the best checkpoint of a run
   * that stopped early (runs.evaluateBest); null before any test evaluation.
   */
  testFrom: 'final' | 'best-checkpoint' | null
  /** The trained model's test R@1 is below the untrained model's: training hurt. */
  belowBaseline: boolean
  epochsDone: number
  /** User labels, each 1-40 characters, unique. */
  tags: string[]
  /** Free-text note by the user ('' when none). */
  note: string
}

export interface StepRecord {
  step: number
  epoch: number
  loss: number
  /** L_ds for HIST; null for losses that have no such part. */
  lds: number | null
  ce: number | null
  lr: number
}

export interface EpochRecord {
  epoch: number
  /** Metrics on the model-selection split (`metrics.split` says which). */
  metrics: Metrics
  seconds: number
  imagesPerSec: number
}

export interface RunLogEntry {
  time: string
  level: 'info' | 'warn' | 'error'
  message: string
}

export interface RunDetail extends RunSummary {
  steps: StepRecord[]
  epochs: EpochRecord[]
  log: RunLogEntry[]
}

/** Fixed sortable/filterable columns of the runs list; any TrainConfig key works too. */
export const RUN_LIST_COLUMNS = [
  'id',
  'name',
  'created',
  'status',
  'dataset',
  'loss',
  'backbone',
  'device',
  'r1',
  'mapAtR',
  'duration'
] as const
export type RunListColumn = (typeof RUN_LIST_COLUMNS)[number]

/** A column key: one of RUN_LIST_COLUMNS or a hyperparameter (a TrainConfig key such as `lr`). */
const ListKey = z
  .string()
  .min(1)
  .refine(
    (k) => (RUN_LIST_COLUMNS as readonly string[]).includes(k) || k in TrainConfigFields.shape,
    { message: 'is not a runs column or a hyperparameter' }
  )

export const RunTag = z.string().trim().min(1).max(40)

/** Sorting and filtering of `runs.list`, done in SQL. */
export const RunsListQuery = z
  .object({
    sort: ListKey.optional(),
    desc: z.boolean().default(false),
    /** Every filter must hold: the column's value equals `value` (numbers compare as numbers). */
    filters: z
      .array(z.object({ key: ListKey, value: z.string() }))
      .max(20)
      .default([]),
    /** Only runs carrying this tag. */
    tag: RunTag.optional()
  })
  .strict()
export type RunsListQuery = z.output<typeof RunsListQuery>
export type RunsListQueryInput = z.input<typeof RunsListQuery>

export const runsSchemas = {
  list: RunsListQuery.optional(),
  /** Sets a run's tags and/or note (fields left out stay as they are). */
  annotate: z
    .object({
      id: Id,
      tags: z
        .array(RunTag)
        .max(20)
        .refine((t) => new Set(t).size === t.length, { message: 'tags must be unique' })
        .optional(),
      note: z.string().max(5000).optional()
    })
    .strict(),
  get: z.object({ id: Id }),
  /** Queues a run; it starts when no other run is training. */
  start: TrainConfig,
  pause: z.object({ id: Id }),
  resume: z.object({ id: Id }),
  /** Queues a failed run again; it resumes from its last checkpoint that verifies. */
  retry: z.object({ id: Id }),
  stop: z.object({ id: Id }),
  remove: z.object({ id: Id }),
  /** Times a few real batches to estimate seconds per epoch and memory. */
  probe: TrainConfig,
  /** 'bundle': the app's run bundle; 'tfjs': the embedding network as a TF.js LayersModel. */
  exportRun: z.object({
    id: Id,
    outDir: z.string().min(1),
    format: z.enum(['bundle', 'tfjs']).default('bundle')
  }),
  /** Evaluates a stopped (or failed) run's best checkpoint on test: test metrics + gallery. */
  evaluateBest: z.object({ id: Id })
} as const

/**
 * The whole-run estimate of a config, from rates measured on this machine's backend by the
 * probe. Seconds; totalSec is the sum of the parts.
 */
export interface RunEstimate {
  /** Backend start and backbone load in the trainer. */
  startupSec: number
  /** Backbone features of every image (frozen mode); 0 when cached or when fine-tuning. */
  featuresSec: number
  /** The frozen-mode feature cache already holds this split's features. */
  featuresCached: boolean
  /** The untrained model (and, frozen, the raw features) on test. */
  baselineSec: number
  /** The training epochs of the selection phase (or of the whole run without selection). */
  trainSec: number
  /** The per-epoch evaluations on the selection split plus the final test evaluation. */
  evalSec: number
  /** The refit on all training classes (modelSelection 'refit'), at most `epochs` epochs. */
  refitSec: number
  totalSec: number
  /** The measured rates behind the figures. */
  rates: { featureImagesPerSec: number; stepsPerSec: number; backend: string }
}

export interface ProbeResult {
  backend: string
  /** One epoch: its training batches plus its evaluation on the selection split. */
  secondsPerEpoch: number
  memoryMb: number
  batchesPerEpoch: number
  /**
   * Images per backbone micro-batch the run will use on this backend (the config's microBatch
   * resolved; equal to the batch size when the batch is not split).
   */
  microBatch: number
  warnings: string[]
  estimate: RunEstimate
}

/** The runs service: payloads from `runsSchemas`, results named here (see define.ts). */
export type RunsService = ServiceOf<
  typeof runsSchemas,
  {
    list: RunSummary[]
    annotate: RunSummary
    get: RunDetail
    start: RunSummary
    pause: void
    resume: void
    retry: void
    stop: void
    remove: void
    probe: ProbeResult
    exportRun: { path: string; files?: string[] }
    evaluateBest: RunSummary
  }
>
