/**
 * What the phases of a run share: the owner's controls, the checkpoint's JSON part, throttled
 * progress, and the metrics helpers.
 */
import type { Metrics } from '../../src-preload/contract/common'
import type { TrainConfig } from '../../src-preload/contract/runs'
import { evaluate, toMetrics } from '../ml/eval'
import type { Backbone } from '../ml/models/backbones'
import { fusedConvActive } from '../ml/kernels'
import { memoryRisk, resolveMicroBatch } from '../ml/train/accumulate'
import { Throttle } from '../ml/train/callbacks'
import type { Position } from '../ml/train/loop'
import type { FromTrainer, RunJob } from './protocol'
import type { RunSource } from './sources'

/** Pause and stop requests from the owner. */
export interface RunControl {
  signal: AbortSignal
  pauseRequested(): boolean
}

/** What a checkpoint file's JSON part holds besides the arrays. */
export interface CheckpointMeta {
  version: 1
  runId: number
  /** The next batch to train (of the refit phase when `refit` is set). */
  position: Position
  /** The best epoch so far on the model-selection split. */
  best: { epoch: number; metrics: Metrics; checkpoint: string } | null
  optimizerSteps: Record<string, number>
  /** Parts of the model stored (head, loss, backbone?, optimizer). */
  parts: string[]
  /** R@1 on the selection split per epoch so far (history[e − 1] is epoch e). */
  history?: number[]
  /** Present in the refit phase: the all-classes model trains for `epochs` epochs. */
  refit?: { epochs: number; selectionStep: number }
}

export type Send = (m: FromTrainer) => void

/** Sends throttled progress (about 8 a second). */
export class Progress {
  private throttle = new Throttle(125)
  constructor(private send: Send) {}
  /** Reports progress; `force` for phase changes and ends. */
  report(p: Extract<FromTrainer, { type: 'progress' }>['progress'], force = false): void {
    if (this.throttle.ready(force)) this.send({ type: 'progress', progress: p })
  }
}

/** The model-selection score of metrics: Recall@1. */
export const score = (m: Metrics): number => m.recall['1'] ?? 0

/** Metrics (without per-query parts) of L2-normalised embeddings. */
export async function metricsOf(
  emb: Float32Array,
  labels: Int32Array,
  d: number,
  ks: number[],
  seed: number
): Promise<Metrics> {
  const n = labels.length
  return toMetrics(
    await evaluate(emb, n, d, labels, { ks, nmi: n <= 20_000, seed, normalized: true })
  )
}

/** Everything the phases of one run share. */
export interface RunCtx {
  job: RunJob
  cfg: TrainConfig
  send: Send
  control: RunControl
  progress: Progress
  log(level: 'info' | 'warn' | 'error', message: string): void
  source: RunSource
  /** Images per backbone micro-batch (batchSize: no split); see microBatchOf. */
  microBatch: number
}

/**
 * The run's micro-batch on this backend: the config's setting resolved for the backbone that
 * fine-tunes (frozen mode and training BatchNorm never split; see resolveMicroBatch).
 */
export function microBatchOf(
  cfg: TrainConfig,
  backbone: Pick<Backbone, 'inputSize' | 'trainable'> | null,
  backend: string
): number {
  return resolveMicroBatch(cfg.microBatch, microContext(cfg, backbone, backend))
}

function microContext(
  cfg: TrainConfig,
  backbone: Pick<Backbone, 'inputSize' | 'trainable'> | null,
  backend: string
): Parameters<typeof resolveMicroBatch>[1] {
  return {
    batchSize: cfg.batchSize,
    backend,
    inputSize: backbone?.inputSize ?? 0,
    splittable: !cfg.frozen && !!backbone && (cfg.bnFreeze || !backbone.trainable),
    fusedConv: fusedConvActive()
  }
}

/** A warning when the run's unsplit fine-tuning batch may not fit the backend (else null). */
export function memoryWarning(
  cfg: TrainConfig,
  backbone: Pick<Backbone, 'inputSize' | 'trainable'> | null,
  backend: string
): string | null {
  const c = microContext(cfg, backbone, backend)
  const fineTunes = !cfg.frozen && !!backbone?.trainable
  return memoryRisk(resolveMicroBatch(cfg.microBatch, c), { ...c, fineTunes })
}
