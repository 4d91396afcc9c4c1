/**
 * The whole-run time estimate from rates the probe measured on this machine's backend: pure
 * arithmetic (measured rates in, seconds out), so that the model of a run's time is unit-tested.
 *
 * Overlap is measured, not assumed. A run prefetches batches (and evaluation chunks) while
 * computing, but decoding needs the main thread between its stages, which a synchronous wasm
 * step holds: with one batch ahead an evaluation chunk took about decode + forward, not the max
 * (two ahead, as now, overlaps more, by an amount that depends on the load). So the probe times
 * the training loop itself and the real evaluation embedding, and this module only multiplies
 * those by the run's counts. Where
 * work competes for the same cores it adds up: the frozen-mode feature pool runs one backbone
 * per core, and decoding takes cycles from the same cores.
 */

/** Rates measured by the probe (seconds). */
export interface MeasuredRates {
  /** From the trainer process's start to the backbone loaded (imports, backend, model). */
  startupSec: number
  /** One batch of the training loop, loading and decoding as the loop overlaps them (median). */
  stepSec: number
  /** Embedding one item for evaluation (head on features, or decode + backbone + head). */
  embedSecPerItem: number
  /** Decoding one image (wall, decoding a batch in parallel over every core). */
  decodeSecPerImage: number
  /** The backbone's forward pass and pooling per image, decoding excluded. */
  featureSecPerImage: number
  /** Retrieval metrics of the selection split's embeddings (one epoch's evaluation). */
  selectionMetricsSec: number
  /** Metrics of the test split (final evaluation, with per-query results and NMI). */
  testMetricsSec: number
  /** Metrics of the test split for the baseline (the untrained model). */
  baselineMetricsSec: number
  /** Metrics of the raw backbone features on test (frozen mode's baseline), else 0. */
  rawMetricsSec: number
}

/** What the run will do (counts from its config and splits). */
export interface RunShape {
  frozen: boolean
  /** Frozen mode: the feature cache already holds every image's features. */
  featuresCached: boolean
  epochs: number
  /** Training batches per epoch of the selection phase. */
  batchesPerEpoch: number
  /** Batches per epoch of the refit on all training classes (0 without a refit). */
  refitBatchesPerEpoch: number
  /** Items evaluated after every epoch (validation split, or test without one). */
  selectionItems: number
  testItems: number
  /** Images whose features are extracted in frozen mode (train + test). */
  allItems: number
  /** Feature-extraction workers (1: in the trainer process). */
  workers: number
  /** CPU cores of the machine. */
  cores: number
}

/** The estimate's parts in seconds (the contract's RunEstimate without its rates). */
export interface EstimateParts {
  startupSec: number
  featuresSec: number
  baselineSec: number
  trainSec: number
  evalSec: number
  refitSec: number
  totalSec: number
  /** One epoch: its batches plus its evaluation on the selection split. */
  secondsPerEpoch: number
}

/**
 * Two wasm backbones on two cores do not scale perfectly (shared memory bandwidth and the
 * trainer's own thread): the pool's speed-up per worker.
 */
const POOL_EFFICIENCY = 0.85

/** The whole run's seconds from the measured rates. */
export function estimateRun(r: MeasuredRates, s: RunShape): EstimateParts {
  const stepWallSec = r.stepSec
  const embedSec = r.embedSecPerItem
  const epochEvalSec = s.selectionItems * embedSec + r.selectionMetricsSec
  const testEvalSec = s.testItems * embedSec + r.testMetricsSec
  const baselineSec = s.testItems * embedSec + r.baselineMetricsSec + r.rawMetricsSec
  let featuresSec = 0
  if (s.frozen && !s.featuresCached) {
    const parallel = Math.max(1, Math.min(s.workers, s.cores))
    // Each worker decodes and runs the backbone; decoding's CPU time comes out of the same
    // cores (decodeSecPerImage is the wall time of a parallel decode over every core).
    const cpuPerImage = r.featureSecPerImage + r.decodeSecPerImage * Math.max(1, s.cores)
    featuresSec =
      parallel > 1
        ? (s.allItems * cpuPerImage) / (parallel * POOL_EFFICIENCY) + r.startupSec
        : s.allItems * (r.featureSecPerImage + r.decodeSecPerImage)
  }
  const trainSec = s.epochs * s.batchesPerEpoch * stepWallSec
  const evalSec = s.epochs * epochEvalSec + testEvalSec
  const refitSec = s.epochs * s.refitBatchesPerEpoch * stepWallSec
  const totalSec = r.startupSec + featuresSec + baselineSec + trainSec + evalSec + refitSec
  return {
    startupSec: r.startupSec,
    featuresSec,
    baselineSec,
    trainSec,
    evalSec,
    refitSec,
    totalSec,
    secondsPerEpoch: s.batchesPerEpoch * stepWallSec + epochEvalSec
  }
}

/** The median of timings (seconds); the typical step, not a slow first one or a hiccup. */
export function median(xs: number[]): number {
  if (!xs.length) throw new Error('median of no timings')
  const a = [...xs].sort((p, q) => p - q)
  const m = a.length >> 1
  return a.length % 2 ? a[m] : (a[m - 1] + a[m]) / 2
}

/**
 * How many steps the probe times: at least `min`, then more while the budget lasts, at most
 * `max` (a MobileNetV2 fine-tune step on wasm takes tens of seconds, a head step milliseconds).
 */
export function keepTiming(
  timed: number[],
  opts: { min: number; max: number; budgetSec: number }
): boolean {
  if (timed.length < opts.min) return true
  if (timed.length >= opts.max) return false
  const spent = timed.reduce((a, b) => a + b, 0)
  return spent < opts.budgetSec
}
