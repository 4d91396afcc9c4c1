/**
 * The Review estimate of a run: measures rates on this machine's backend and hands them to
 * estimateRun (estimate.ts), which adds up the whole run. The rates come from the code paths a
 * run takes: the training loop itself (prefetching, decoding and augmenting as a run does, so
 * decoding overlaps compute exactly as much as it does in a run; the median batch after warm-up),
 * the real evaluation embedding of up to two chunks, the backbone forward pass and decoding (for
 * the feature workers), and the retrieval metrics on random embeddings of the splits' sizes.
 */
import os from 'node:os'
import * as tf from '@tensorflow/tfjs'
import type { RunEstimate, TrainConfig } from '../../src-preload/contract/runs'
import { backendLabel, initBackend } from '../ml/backend'
import { featureWorkers, hasCachedFeatures } from '../ml/data/featureCache'
import { evaluate } from '../ml/eval'
import { loadBackbone } from '../ml/models/backbones'
import { batchesPerEpoch, fit, type FitData } from '../ml/train/loop'
import { TrainModel } from '../ml/train/model'
import { denseLabels, planSelection } from '../ml/train/splits'
import { evalTransform } from '../ml/train/transforms'
import { createRng } from '../ml/util/rng'
import type { RunJob } from './protocol'
import { estimateRun, keepTiming, median, type MeasuredRates } from './estimate'
import { memoryWarning, microBatchOf, type RunControl } from './runCtx'
import { imageBatch, imageSource, l2NormalizeRows } from './sources'

/** Items of the evaluation timing sample (larger sets are scaled by (n / m)²). */
const EVAL_SAMPLE = 1500

/** Seconds to evaluate n L2-normalised d-dim embeddings (timed on a random sample). */
async function evalSeconds(n: number, d: number, final: boolean): Promise<number> {
  if (n < 2) return 0
  const m = Math.min(n, EVAL_SAMPLE)
  const rng = createRng(7)
  const emb = l2NormalizeRows(
    Float32Array.from({ length: m * d }, () => rng.next() - 0.5),
    m,
    d
  )
  const labels = Int32Array.from({ length: m }, (_, i) => i % Math.max(2, Math.round(m / 20)))
  const t0 = performance.now()
  await evaluate(emb, m, d, labels, {
    ks: [1, 2, 4, 8],
    nmi: final || m <= 20_000,
    seed: 1,
    perQuery: final,
    normalized: true
  })
  return ((performance.now() - t0) / 1000) * (n / m) ** 2
}

/** What probeRun answers (the contract's ProbeResult). */
export interface ProbeAnswer {
  backend: string
  secondsPerEpoch: number
  memoryMb: number
  batchesPerEpoch: number
  microBatch: number
  warnings: string[]
  estimate: RunEstimate
}

const round1 = (x: number): number => Math.round(x * 10) / 10

/** Where the probe runs: `trainerProcess` counts start-up from the process's own start. */
export interface ProbeOptions {
  /** True in a fresh trainer process (as a run starts one): imports count as start-up. */
  trainerProcess?: boolean
}

/**
 * The median seconds per batch of the real training loop (prefetch, decoding and augmentation
 * included, overlapped as the loop overlaps them) on an epoch after warm-up, so the backbone
 * trains if it will. The first batch (and the second when batches are fast) warms the kernels
 * up and is not counted; timing stops when keepTiming says enough.
 */
async function timeLoopSteps(
  model: TrainModel,
  data: FitData,
  cfg: TrainConfig,
  microBatch: number
): Promise<number> {
  const fast = cfg.frozen
  const opts = fast ? { min: 5, max: 30, budgetSec: 1.5 } : { min: 2, max: 8, budgetSec: 3 }
  const times: number[] = []
  let warm = 1
  let last = performance.now()
  const timed = (): number[] => times.slice(warm)
  await fit(model, data, {
    epochs: cfg.warm + 1,
    start: { epoch: cfg.warm, batch: 0, step: 0 },
    batchSize: cfg.batchSize,
    // The sampler does not change a step's cost; random batches need no class counts.
    sampler: 'random',
    ipc: cfg.ipc,
    seed: cfg.seed,
    microBatch,
    shouldPause: () => times.length > warm && !keepTiming(timed(), opts),
    callbacks: {
      onEpochBegin: () => {
        last = performance.now()
      },
      onBatchEnd: () => {
        const now = performance.now()
        times.push((now - last) / 1000)
        last = now
        if (times.length === 1 && times[0] < 1) warm = 2
      }
    }
  })
  return median(timed())
}

/** Times a few real batches of a config: seconds per epoch, the whole-run estimate, warnings. */
export async function probeRun(
  job: RunJob,
  control: RunControl,
  opts: ProbeOptions = {}
): Promise<ProbeAnswer> {
  const tStart = performance.now()
  const cfg = job.config
  // Measured on the backend the run will use, so the estimate is the chosen device's.
  const report = await initBackend({ device: cfg.device })
  const warnings: string[] = []
  const plan = planSelection(
    job.train,
    cfg.modelSelection,
    cfg.valRatio,
    cfg.seed,
    cfg.acceptSmallValidation
  )
  if (cfg.modelSelection === 'test')
    warnings.push('Model selection on the test split gives optimistic test metrics.')
  if (plan.skipReason)
    warnings.push(
      `No epoch selection: ${plan.skipReason}; the model trains on all classes for ${cfg.epochs} epochs.`
    )
  if (plan.warning) warnings.push(`Model selection is unreliable: ${plan.warning}.`)
  const { labels } = denseLabels(plan.train)
  const perEpoch = batchesPerEpoch(labels, cfg)
  if (perEpoch === 0)
    warnings.push(
      `No full batch per epoch: the training split has ${plan.train.length} images${plan.val ? ' after the validation classes are set aside' : ''}, fewer than one batch of ${cfg.batchSize} (incomplete batches are dropped). A run would not start; lower the batch size or train on more classes.`
    )
  const perEpochAll = batchesPerEpoch(denseLabels(job.train).labels, cfg)
  const backbone = await loadBackbone(cfg.backbone, {
    modelsDir: job.modelsDir,
    seed: cfg.seed,
    signal: control.signal
  })
  // A run's trainer is a fresh process too: its start-up includes loading the code.
  const startupSec = (opts.trainerProcess ? performance.now() : performance.now() - tStart) / 1000
  const microBatch = microBatchOf(cfg, cfg.frozen ? null : backbone, report.active)
  const risk = memoryWarning(cfg, cfg.frozen ? null : backbone, report.active)
  if (risk) warnings.push(`Memory: ${risk}.`)
  let model: TrainModel | null = null
  try {
    const transform = evalTransform(cfg.backbone)
    const all = [...job.train, ...job.test].sort((a, b) => a.imageId - b.imageId)
    const cached =
      cfg.frozen &&
      hasCachedFeatures(
        backbone,
        all.map((i) => ({ path: i.absPath })),
        {
          cacheDir: job.featuresDir,
          cacheKey: `ds${job.dataset.id}-${backbone.name}-${transform}`,
          mode: transform
        }
      )
    const sample = plan.train.slice(0, Math.min(plan.train.length, cfg.batchSize))
    const paths = sample.map((i) => i.absPath)
    // Kernel warm-up on two images, then a full batch that also reads the files; not timed.
    const w = await imageBatch(paths.slice(0, 2), backbone, transform)
    tf.dispose([w, tf.tidy(() => backbone.apply(w, false))])
    const x0 = await imageBatch(paths, backbone, transform)
    tf.dispose([x0, tf.tidy(() => backbone.apply(x0, false))])
    // Decoding alone (frozen mode's feature workers decode and run the backbone in turn).
    const tDecode = performance.now()
    const x = await imageBatch(paths, backbone, transform)
    const decodeSec = (performance.now() - tDecode) / 1000 / sample.length
    const t0 = performance.now()
    const fm = tf.tidy(() => backbone.apply(x, false))
    await fm.data()
    const featureSec = (performance.now() - t0) / 1000 / sample.length
    const dim = fm.shape[3]
    tf.dispose([fm, x])
    model = new TrainModel(cfg, {
      backbone: cfg.frozen ? null : backbone,
      inChannels: dim,
      numClasses: new Set(labels).size
    })
    const m = model
    // The loop over repeated training items: enough batches for the timing, whatever the split.
    const need = (cfg.frozen ? 32 : 10) * cfg.batchSize
    const loopItems = Array.from({ length: need }, (_, i) => plan.train[i % plan.train.length])
    const source = imageSource(backbone, transform, cfg.embeddingSize)
    const data = (): FitData =>
      cfg.frozen
        ? {
            labels: denseLabels(loopItems).labels,
            load: (idx) => tf.randomNormal([idx.length, dim])
          }
        : source.data(loopItems)
    const stepSec = plan.train.length ? await timeLoopSteps(m, data(), cfg, microBatch) : 0
    // Evaluation's embedding per item: the head on features (frozen), or the real image
    // source (decoding of the next chunk overlapped as it is in a run) on up to two chunks.
    const nSel = plan.val ? plan.val.length : job.test.length
    let embedSec: number
    if (cfg.frozen) {
      const f = tf.randomNormal([sample.length, dim]) as tf.Tensor2D
      tf.dispose(tf.tidy(() => m.embed(f, false)))
      const t2 = performance.now()
      tf.dispose(tf.tidy(() => m.embed(f, false)))
      embedSec = (performance.now() - t2) / 1000 / sample.length
      f.dispose()
    } else {
      const evalItems = (plan.val ?? job.test).slice(0, 128)
      await source.embed(m, evalItems.slice(0, 4))
      const t2 = performance.now()
      await source.embed(m, evalItems)
      embedSec = (performance.now() - t2) / 1000 / Math.max(1, evalItems.length)
    }

    const nTest = job.test.length
    const D = cfg.embeddingSize
    const rates: MeasuredRates = {
      startupSec,
      stepSec,
      embedSecPerItem: embedSec,
      decodeSecPerImage: decodeSec,
      featureSecPerImage: featureSec,
      selectionMetricsSec: await evalSeconds(nSel, D, false),
      testMetricsSec: await evalSeconds(nTest, D, true),
      baselineMetricsSec: await evalSeconds(nTest, D, false),
      rawMetricsSec: cfg.frozen ? await evalSeconds(nTest, dim, false) : 0
    }
    const e = estimateRun(rates, {
      frozen: cfg.frozen,
      featuresCached: cached,
      epochs: cfg.epochs,
      batchesPerEpoch: perEpoch,
      refitBatchesPerEpoch: plan.refit ? perEpochAll : 0,
      selectionItems: nSel,
      testItems: nTest,
      allItems: all.length,
      workers: featureWorkers(backbone, all.length),
      cores: os.cpus().length
    })
    if (!cfg.frozen && e.secondsPerEpoch > 600)
      warnings.push(
        `Fine-tuning takes about ${Math.round(e.secondsPerEpoch / 60)} min per epoch on this machine; consider --frozen.`
      )
    return {
      backend: backendLabel(report),
      secondsPerEpoch: round1(e.secondsPerEpoch),
      memoryMb: Math.round(process.memoryUsage().rss / 2 ** 20),
      batchesPerEpoch: perEpoch,
      microBatch,
      warnings,
      estimate: {
        startupSec: round1(e.startupSec),
        featuresSec: round1(e.featuresSec),
        featuresCached: cached,
        baselineSec: round1(e.baselineSec),
        trainSec: round1(e.trainSec),
        evalSec: round1(e.evalSec),
        refitSec: round1(e.refitSec),
        totalSec: round1(e.totalSec),
        rates: {
          featureImagesPerSec: round1(1 / featureSec),
          stepsPerSec: stepSec > 0 ? round1(1 / stepSec) : 0,
          backend: backendLabel(report)
        }
      }
    }
  } finally {
    model?.dispose()
    backbone.dispose()
  }
}
