/**
 * Messages between the owner (main process, CLI) and the trainer process. Both directions are
 * discriminated unions of plain data on `type`, and each side validates what it receives with
 * these schemas before acting on it.
 */
import { z } from 'zod'
import { ERROR_CODES } from '../../src-preload/contract/errors'
import { MetricsSchema } from '../../src-preload/contract/common'
import { TrainConfig } from '../../src-preload/contract/runs'

/** The gallery embeddings file a run's trainer writes into its folder (rows follow run_gallery.idx). */
export const GALLERY_FILE = 'gallery.bin'

const finite = z.number().refine(Number.isFinite, 'must be a finite number')

/** One image of the job's dataset. */
export const JobItem = z.object({
  imageId: z.number().int(),
  absPath: z.string().min(1),
  classId: z.number().int(),
  className: z.string()
})
export type JobItem = z.infer<typeof JobItem>

/** Everything the trainer needs for one run; the trainer never reads the database. */
export const RunJob = z.object({
  /** The run's id; 0 for a probe, which stores nothing. */
  runId: z.number().int().min(0),
  /** Folder of this run (checkpoints, gallery); exists. */
  runDir: z.string().min(1),
  /** Shared backbone-feature cache folder. */
  featuresDir: z.string().min(1),
  /** Model cache folder (downloaded backbones). */
  modelsDir: z.string().min(1),
  config: TrainConfig,
  dataset: z.object({ id: z.number().int(), name: z.string(), format: z.string() }),
  /** Images of the training classes (the validation classes are carved from these). */
  train: z.array(JobItem).min(1),
  /** Images of the test classes. */
  test: z.array(JobItem).min(1),
  /** Recall@K cut-offs for evaluation. */
  ks: z.array(z.number().int().positive()).min(1),
  /** Resume from this checkpoint file (relative to runDir); null starts from scratch. */
  checkpoint: z.string().nullable(),
  /** The run's baseline (untrained) test metrics are already stored. */
  hasBaseline: z.boolean()
})
export type RunJob = z.infer<typeof RunJob>

/** Owner → trainer. */
export const ToTrainer = z.discriminatedUnion('type', [
  z.object({ type: z.literal('start'), job: RunJob }),
  z.object({ type: z.literal('probe'), job: RunJob }),
  /** Checkpoint at the next batch boundary and exit. */
  z.object({ type: z.literal('pause') }),
  /** Stop at the next batch boundary and exit without further results. */
  z.object({ type: z.literal('stop') })
])
export type ToTrainer = z.infer<typeof ToTrainer>

export const StepRecordSchema = z.object({
  step: z.number().int().min(0),
  epoch: z.number().int().min(0),
  loss: finite,
  lds: z.number().nullable(),
  ce: z.number().nullable(),
  lr: z.number()
})

export const EpochRecordSchema = z.object({
  epoch: z.number().int().min(1),
  metrics: MetricsSchema,
  seconds: z.number().min(0),
  imagesPerSec: z.number().min(0)
})

export const ProgressSchema = z.object({
  epoch: z.number().int().min(0),
  epochs: z.number().int().min(0),
  batch: z.number().int().min(0),
  batches: z.number().int().min(0),
  etaSec: z.number().nullable(),
  imagesPerSec: z.number().nullable(),
  phase: z.enum(['features', 'baseline', 'train', 'eval', 'refit', 'test'])
})

export const ProbeResultSchema = z.object({
  backend: z.string(),
  secondsPerEpoch: z.number(),
  memoryMb: z.number(),
  batchesPerEpoch: z.number(),
  microBatch: z.number().int().positive(),
  warnings: z.array(z.string()),
  estimate: z.object({
    startupSec: z.number(),
    featuresSec: z.number(),
    featuresCached: z.boolean(),
    baselineSec: z.number(),
    trainSec: z.number(),
    evalSec: z.number(),
    refitSec: z.number(),
    totalSec: z.number(),
    rates: z.object({
      featureImagesPerSec: z.number(),
      stepsPerSec: z.number(),
      backend: z.string()
    })
  })
})

/** Trainer → owner. */
export const FromTrainer = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready'), pid: z.number().int() }),
  z.object({ type: z.literal('backend'), backend: z.string() }),
  z.object({
    type: z.literal('log'),
    level: z.enum(['info', 'warn', 'error']),
    message: z.string()
  }),
  z.object({ type: z.literal('progress'), progress: ProgressSchema }),
  z.object({ type: z.literal('steps'), steps: z.array(StepRecordSchema) }),
  /** Untrained model on test; in frozen mode also the raw backbone features on test. */
  z.object({
    type: z.literal('baseline'),
    metrics: MetricsSchema,
    rawMetrics: MetricsSchema.optional()
  }),
  /** An epoch is done and its checkpoint file is in place; commit all of it at once. */
  z.object({
    type: z.literal('epoch'),
    record: EpochRecordSchema,
    checkpoint: z.string(),
    /** Global step count at the checkpoint (steps numbered from 0). */
    step: z.number().int().min(0),
    best: z
      .object({ epoch: z.number().int(), metrics: MetricsSchema, checkpoint: z.string() })
      .nullable()
  }),
  /** Paused at a batch boundary; checkpoint null when paused before training began. */
  z.object({
    type: z.literal('paused'),
    checkpoint: z.string().nullable(),
    step: z.number().int().min(0),
    epoch: z.number().int()
  }),
  z.object({
    type: z.literal('result'),
    testMetrics: MetricsSchema,
    /** Gallery embeddings file, relative to runDir. */
    galleryFile: z.string(),
    galleryImageIds: z.array(z.number().int()),
    /** The final model's checkpoint when it is not the best epoch's (the refit model). */
    modelCheckpoint: z.string().optional(),
    queries: z.array(
      z.object({ imageId: z.number().int(), ap: z.number(), correctAt1: z.boolean() })
    )
  }),
  /** The job failed; an expected error keeps its code and field issues (see contract/errors). */
  z.object({
    type: z.literal('failed'),
    message: z.string(),
    code: z.enum(ERROR_CODES).optional(),
    issues: z.array(z.object({ path: z.string(), message: z.string() })).optional()
  }),
  z.object({ type: z.literal('cancelled') }),
  z.object({ type: z.literal('probeResult'), result: ProbeResultSchema })
])
export type FromTrainer = z.infer<typeof FromTrainer>

/** Parses a message, throwing an error that names the bad field. */
export function parseMessage<T>(schema: z.ZodType<T>, msg: unknown, from: string): T {
  const r = schema.safeParse(msg)
  if (r.success) return r.data
  const what = r.error.issues
    .map((i) => `${i.path.join('.') || '(message)'}: ${i.message}`)
    .join('; ')
  throw new Error(`invalid message from ${from}: ${what}`)
}
