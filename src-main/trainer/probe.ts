/**
 * The probe: times a few real batches of a config in the trainer process to estimate seconds
 * per epoch and memory, with warnings for the user. Nothing is stored.
 */
import * as tf from '@tensorflow/tfjs'
import { backendLabel, initBackend } from '../ml/backend'
import { loadBackbone } from '../ml/models/backbones'
import { batchesPerEpoch } from '../ml/train/loop'
import { TrainModel } from '../ml/train/model'
import { carveValidation, denseLabels } from '../ml/train/splits'
import { evalTransform } from '../ml/train/transforms'
import { imageBatch } from './data'
import type { RunControl } from './pipeline'
import type { RunJob } from './protocol'

/** Times a few real batches of a config: seconds per epoch, memory and warnings. */
export async function probeRun(
  job: RunJob,
  control: RunControl
): Promise<{
  backend: string
  secondsPerEpoch: number
  memoryMb: number
  batchesPerEpoch: number
  warnings: string[]
}> {
  const cfg = job.config
  // Measured on the backend the run will use, so the estimate is the chosen device's.
  const report = await initBackend({ device: cfg.device })
  const warnings: string[] = []
  let train = job.train
  if (cfg.modelSelection === 'val') train = carveValidation(job.train, cfg.valRatio, cfg.seed).train
  else warnings.push('Model selection on the test split gives optimistic test metrics.')
  const { labels } = denseLabels(train)
  const perEpoch = batchesPerEpoch(labels, cfg)
  if (perEpoch === 0)
    warnings.push(
      `No full batch per epoch: the training split has ${train.length} images${cfg.modelSelection === 'val' ? ' after the validation classes are set aside' : ''}, fewer than one batch of ${cfg.batchSize} (incomplete batches are dropped). A run would not start; lower the batch size or train on more classes.`
    )
  const backbone = await loadBackbone(cfg.backbone, {
    modelsDir: job.modelsDir,
    seed: cfg.seed,
    signal: control.signal
  })
  let model: TrainModel | null = null
  try {
    const sample = train.slice(0, Math.min(train.length, cfg.batchSize))
    const t0 = performance.now()
    const x = await imageBatch(
      sample.map((i) => i.absPath),
      backbone,
      evalTransform(cfg.backbone)
    )
    const fm = tf.tidy(() => backbone.apply(x, false))
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
    const stepSec = (performance.now() - t1) / 1000 / steps
    tf.dispose([x, y, input])
    const evalImages =
      cfg.modelSelection === 'val' ? job.train.length - train.length : job.test.length
    let secondsPerEpoch = perEpoch * stepSec + (cfg.frozen ? 0 : evalImages * featureSec)
    if (cfg.frozen)
      warnings.push(
        `Backbone features are computed once (about ${Math.round((job.train.length + job.test.length) * featureSec)} s unless cached).`
      )
    if (!cfg.frozen && secondsPerEpoch > 600)
      warnings.push(
        `Fine-tuning takes about ${Math.round(secondsPerEpoch / 60)} min per epoch on this machine; consider --frozen.`
      )
    secondsPerEpoch = Math.round(secondsPerEpoch * 10) / 10
    return {
      backend: backendLabel(report),
      secondsPerEpoch,
      memoryMb: Math.round(process.memoryUsage().rss / 2 ** 20),
      batchesPerEpoch: perEpoch,
      warnings
    }
  } finally {
    model?.dispose()
    backbone.dispose()
  }
}
