/**
 * The Review estimate of a run: times a few real batches of its config and the evaluation on
 * this machine's backend, then adds up the whole run (backbone features unless cached, the
 * baseline, the training epochs, the per-epoch evaluations, the refit and the final test).
 */
import * as tf from '@tensorflow/tfjs'
import type { RunEstimate } from '../../src-preload/contract/runs'
import { backendLabel, initBackend } from '../ml/backend'
import { featureWorkers, hasCachedFeatures } from '../ml/data/featureCache'
import { decodeImageU8 } from '../ml/data/decode'
import { evaluate } from '../ml/eval'
import { loadBackbone } from '../ml/models/backbones'
import { batchesPerEpoch } from '../ml/train/loop'
import { TrainModel } from '../ml/train/model'
import { denseLabels, planSelection } from '../ml/train/splits'
import { evalTransform } from '../ml/train/transforms'
import { createRng } from '../ml/util/rng'
import type { RunJob } from './protocol'
import type { RunControl } from './runCtx'
import { imageBatch, l2NormalizeRows } from './sources'

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
  warnings: string[]
  estimate: RunEstimate
}

const round1 = (x: number): number => Math.round(x * 10) / 10

/** Times a few real batches of a config: seconds per epoch, the whole-run estimate, warnings. */
export async function probeRun(job: RunJob, control: RunControl): Promise<ProbeAnswer> {
  const tStart = performance.now()
  const cfg = job.config
  // Measured on the backend the run will use, so the estimate is the chosen device's.
  const report = await initBackend({ device: cfg.device })
  const warnings: string[] = []
  const plan = planSelection(job.train, cfg.modelSelection, cfg.valRatio, cfg.seed)
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
  const startupSec = (performance.now() - tStart) / 1000
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
    // Kernel warm-up on two images, not timed.
    const w = await imageBatch(paths.slice(0, 2), backbone, transform)
    tf.dispose([w, tf.tidy(() => backbone.apply(w, false))])
    const tDecode = performance.now()
    await Promise.all(paths.map((p) => decodeImageU8(p, backbone.inputSize, { mode: transform })))
    const decodeSec = (performance.now() - tDecode) / 1000 / sample.length
    // The first full batch warms the kernels up for its shape; the second one is timed.
    const x = await imageBatch(paths, backbone, transform)
    tf.dispose(tf.tidy(() => backbone.apply(x, false)))
    const t0 = performance.now()
    const x2 = await imageBatch(paths, backbone, transform)
    const fm = tf.tidy(() => backbone.apply(x2, false))
    await fm.data()
    x2.dispose()
    const featureSec = (performance.now() - t0) / 1000 / sample.length
    const dim = fm.shape[3]
    tf.dispose([fm])
    model = new TrainModel(cfg, {
      backbone: cfg.frozen ? null : backbone,
      inChannels: dim,
      numClasses: new Set(labels).size
    })
    const m = model
    const y = tf.tensor1d(
      Int32Array.from(sample, (_, i) => labels[i]),
      'int32'
    )
    const input = cfg.frozen ? tf.tidy(() => tf.randomNormal([sample.length, dim])) : x
    const { trainStep } = await import('../ml/train/step')
    const vars = m.trainableVariables(cfg.warm)
    await trainStep(m, input, y, vars, 0) // warm-up of kernels, not timed
    const t1 = performance.now()
    const steps = 3
    for (let i = 0; i < steps; i++) await trainStep(m, input, y, vars, i + 1)
    // Fine-tuning decodes and augments every batch too (prefetched, but on the same cores).
    const stepSec =
      (performance.now() - t1) / 1000 / steps + (cfg.frozen ? 0 : decodeSec * cfg.batchSize)
    // The head's forward pass per item (frozen evaluation embeds features, not images).
    const t2 = performance.now()
    tf.dispose(tf.tidy(() => m.embed(input, false)))
    const headSec = (performance.now() - t2) / 1000 / sample.length
    tf.dispose([x, y, input])

    const nSel = plan.val ? plan.val.length : job.test.length
    const nTest = job.test.length
    const nAll = all.length
    const embedSec = cfg.frozen ? headSec : featureSec + headSec
    const D = cfg.embeddingSize
    const epochEvalSec = nSel * embedSec + (await evalSeconds(nSel, D, false))
    const testEvalSec = nTest * embedSec + (await evalSeconds(nTest, D, true))
    const baselineSec =
      nTest * embedSec +
      (await evalSeconds(nTest, D, false)) +
      (cfg.frozen ? await evalSeconds(nTest, dim, false) : 0)
    const workers = featureWorkers(backbone, nAll)
    // A pool of w workers on the machine's cores: each worker loads the model (about the startup).
    const featuresSec =
      !cfg.frozen || cached
        ? 0
        : (nAll * featureSec) / Math.max(1, Math.min(workers, 2) * 0.8) +
          (workers > 1 ? startupSec : 0)
    const trainSec = cfg.epochs * perEpoch * stepSec
    const evalSec = cfg.epochs * epochEvalSec + testEvalSec
    // The refit trains on all classes for the selected count: at most the configured epochs.
    const refitSec = plan.refit ? cfg.epochs * perEpochAll * stepSec : 0
    const totalSec = startupSec + featuresSec + baselineSec + trainSec + evalSec + refitSec
    const secondsPerEpoch = perEpoch * stepSec + epochEvalSec
    if (!cfg.frozen && secondsPerEpoch > 600)
      warnings.push(
        `Fine-tuning takes about ${Math.round(secondsPerEpoch / 60)} min per epoch on this machine; consider --frozen.`
      )
    return {
      backend: backendLabel(report),
      secondsPerEpoch: round1(secondsPerEpoch),
      memoryMb: Math.round(process.memoryUsage().rss / 2 ** 20),
      batchesPerEpoch: perEpoch,
      warnings,
      estimate: {
        startupSec: round1(startupSec),
        featuresSec: round1(featuresSec),
        featuresCached: cached,
        baselineSec: round1(baselineSec),
        trainSec: round1(trainSec),
        evalSec: round1(evalSec),
        refitSec: round1(refitSec),
        totalSec: round1(totalSec),
        rates: {
          featureImagesPerSec: round1(1 / featureSec),
          stepsPerSec: round1(1 / stepSec),
          backend: backendLabel(report)
        }
      }
    }
  } finally {
    model?.dispose()
    backbone.dispose()
  }
}
