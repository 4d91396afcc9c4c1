/**
 * One run, start to finish, inside the trainer process (or in-process for benchmarks): the
 * selection plan, backbone features (cached on disk in frozen mode), the untrained baseline, the
 * training loop with per-epoch evaluation and checkpoints, model selection, the refit on all
 * training classes (the default selection, see planSelection), and the final test evaluation
 * with the gallery file. It talks to the owner only through `send` (plain data) and never
 * touches the database.
 */
import { join } from 'node:path'
import type { Metrics } from '../../src-preload/contract/common'
import { invalidField } from '../../src-preload/contract/errors'
import type { TrainConfig } from '../../src-preload/contract/runs'
import { backendLabel, describeBackend, initBackend } from '../ml/backend'
import { extractFeatures } from '../ml/data/featureCache'
import { evaluate, toMetrics, writeGallery } from '../ml/eval'
import { loadBackbone, type Backbone } from '../ml/models/backbones'
import { TrainModel } from '../ml/train/model'
import { denseLabels, planSelection, refitEpochs } from '../ml/train/splits'
import { evalTransform } from '../ml/train/transforms'
import { readCheckpoint } from '../ml/train/checkpoints'
import { GALLERY_FILE, type JobItem, type RunJob } from './protocol'
import {
  metricsOf,
  memoryWarning,
  microBatchOf,
  Progress,
  score,
  type CheckpointMeta,
  type RunControl,
  type RunCtx,
  type Send
} from './runCtx'
import { featureSource, imageSource, l2NormalizeRows, type RunSource } from './sources'
import { refitPhase, selectionPhase, writeState } from './training'
import { restoreBest } from './checkpointing'

export { probeRun } from './probe'
export type { CheckpointMeta, RunControl } from './runCtx'

/** Seconds left of a job from its progress so far (null until something is done). */
export function etaSeconds(elapsedSec: number, done: number, total: number): number | null {
  if (done <= 0 || elapsedSec <= 0) return null
  return Math.max(0, (elapsedSec / done) * (total - done))
}

/** Frozen mode: features of every image of the split, computed once and cached on disk. */
async function frozenSource(
  job: RunJob,
  backbone: Backbone,
  progress: Progress,
  control: RunControl,
  log: RunCtx['log']
): Promise<{ source: RunSource; raw: (items: JobItem[]) => Float32Array; dim: number }> {
  const cfg = job.config
  // The list is in image-id order, so any validation carve or seed of the same split reuses it.
  const all = [...job.train, ...job.test].sort((a, b) => a.imageId - b.imageId)
  const row = new Map(all.map((it, r) => [it.imageId, r]))
  const total = all.length
  const t0 = performance.now()
  const transform = evalTransform(cfg.backbone)
  const feats = await extractFeatures(
    backbone,
    all.map((i) => ({ path: i.absPath })),
    {
      cacheDir: job.featuresDir,
      // The key material includes the backbone's init seed, so a small CNN gets one file per seed.
      cacheKey: `ds${job.dataset.id}-${backbone.name}-${transform}`,
      mode: transform,
      signal: control.signal,
      onProgress: (done: number) => {
        const sec = (performance.now() - t0) / 1000
        progress.report(
          {
            epoch: 0,
            epochs: cfg.epochs,
            batch: done,
            batches: total,
            etaSec: etaSeconds(sec, done, total),
            imagesPerSec: sec > 0 ? done / sec : null,
            phase: 'features'
          },
          done === total
        )
      }
    }
  )
  const featSec = (performance.now() - t0) / 1000
  if (featSec > 2)
    log(
      'info',
      `Backbone features of ${total} images computed in ${featSec.toFixed(1)} s (${(total / featSec).toFixed(1)} images/s); cached for later runs.`
    )
  const dim = feats.dim
  const raw = (items: JobItem[]): Float32Array => {
    const out = new Float32Array(items.length * dim)
    items.forEach((it, i) => {
      const r = row.get(it.imageId)!
      out.set(feats.features.subarray(r * dim, (r + 1) * dim), i * dim)
    })
    return out
  }
  return { source: featureSource(feats.features, dim, row, cfg.embeddingSize), raw, dim }
}

/** Runs (or resumes) a whole training job. */
export async function runTraining(job: RunJob, send: Send, control: RunControl): Promise<void> {
  const cfg: TrainConfig = job.config
  const log = (level: 'info' | 'warn' | 'error', message: string): void =>
    send({ type: 'log', level, message })
  const report = await initBackend({ device: cfg.device })
  send({ type: 'backend', backend: backendLabel(report) })
  const progress = new Progress(send)
  log('info', `Device ${cfg.device}: ${describeBackend(report).join('; ')}.`)
  if (report.adapter?.software)
    log(
      'warn',
      'The WebGPU adapter is a software one (a CPU implementation of the GPU API): training works but is slower than on wasm.'
    )

  // Selection plan: validation classes carved from the training classes (class-disjoint, seeded).
  const plan = planSelection(
    job.train,
    cfg.modelSelection,
    cfg.valRatio,
    cfg.seed,
    cfg.acceptSmallValidation
  )
  const ck = job.checkpoint
    ? readCheckpoint<CheckpointMeta>(join(job.runDir, job.checkpoint))
    : null
  if (!job.checkpoint) logPlan(job, plan, log)
  const selItems = plan.val ?? job.test
  if (plan.train.length < cfg.batchSize)
    throw invalidField(
      'batchSize',
      `the training split has ${plan.train.length} images, fewer than one batch of ${cfg.batchSize}`
    )

  let backbone: Backbone | null = await loadBackbone(cfg.backbone, {
    modelsDir: job.modelsDir,
    seed: cfg.seed,
    signal: control.signal
  })
  const models: TrainModel[] = []
  try {
    let source: RunSource
    let rawTest: { feat: Float32Array; dim: number } | null = null
    if (cfg.frozen) {
      let f
      try {
        f = await frozenSource(job, backbone, progress, control, log)
      } catch (err) {
        if (control.signal.aborted) return send({ type: 'cancelled' })
        throw err
      }
      source = f.source
      rawTest = { feat: f.raw(job.test), dim: f.dim }
      // The backbone is not needed any more: training and evaluation run on the features.
      backbone.dispose()
      backbone = null
    } else {
      source = imageSource(backbone, evalTransform(cfg.backbone), cfg.embeddingSize)
    }
    const microBatch = microBatchOf(cfg, cfg.frozen ? null : backbone, report.active)
    if (microBatch < cfg.batchSize)
      log(
        'info',
        `Each batch of ${cfg.batchSize} runs through the backbone in micro-batches of ${microBatch} (${cfg.microBatch === 'auto' ? `the ${report.active} backend's memory cannot hold the whole batch` : 'as configured'}); the step is the exact gradient of the whole batch's loss.`
      )
    const risk = memoryWarning(cfg, cfg.frozen ? null : backbone, report.active)
    if (risk) log('warn', `Memory: ${risk}.`)
    const rc: RunCtx = { job, cfg, send, control, progress, log, source, microBatch }
    const newModel = (items: JobItem[], bb: Backbone | null): TrainModel => {
      const m = new TrainModel(cfg, {
        backbone: cfg.frozen ? null : bb,
        inChannels: source.inChannels,
        numClasses: new Set(items.map((i) => i.classId)).size
      })
      models.push(m)
      return m
    }

    let finalModel: TrainModel
    let selectedEpoch: number
    if (ck?.meta.refit) {
      finalModel = newModel(job.train, backbone)
      const r = await refitPhase(rc, finalModel, ck.meta.refit, ck)
      if (r !== 'completed') return
      selectedEpoch = ck.meta.refit.epochs
    } else {
      const model = newModel(plan.train, backbone)
      if (!job.hasBaseline && ck)
        log(
          'warn',
          'No baseline was recorded before this checkpoint; the untrained model cannot be evaluated any more.'
        )
      else if (!job.hasBaseline) await baselinePhase(rc, model, rawTest)
      // Without a validation split (a too-small one skipped) the test epochs are only monitored.
      const sel = await selectionPhase(rc, model, plan.train, selItems, ck, {
        split: plan.val ? 'validation' : 'test',
        select: plan.val !== null || cfg.modelSelection === 'test'
      })
      if (!sel) return
      selectedEpoch = sel.best?.epoch ?? cfg.epochs
      if (plan.refit) {
        const pick = refitEpochs(sel.history, selItems.length)
        selectedEpoch = pick.epochs
        const pct = (x: number): string => (x * 100).toFixed(1)
        log(
          'info',
          `Refitting on all ${new Set(job.train.map((i) => i.classId)).size} training classes for ${selectedEpoch} epochs: the longest training whose validation R@1 (${pct(sel.history[selectedEpoch - 1])}) is within one standard error (${pct(pick.se)}) of the best (${pct(pick.best)} at epoch ${pick.bestEpoch}).`
        )
        model.dispose()
        models.splice(models.indexOf(model), 1)
        if (!cfg.frozen) {
          // Fine-tuning changed the backbone's weights: the refit starts from the pristine ones.
          backbone?.dispose()
          backbone = await loadBackbone(cfg.backbone, {
            modelsDir: job.modelsDir,
            seed: cfg.seed,
            signal: control.signal
          })
        }
        finalModel = newModel(job.train, backbone)
        const refit = { epochs: selectedEpoch, selectionStep: sel.step }
        const r = await refitPhase(rc, finalModel, refit, null, sel.best)
        if (r !== 'completed') return
      } else {
        // The selected model: the best epoch's weights (a damaged best file: the last epoch's).
        const lost = sel.best ? restoreBest(job, model, sel.best) : null
        if (lost) {
          log('warn', `${lost}; the last epoch's model is tested.`)
          selectedEpoch = cfg.epochs
        }
        finalModel = model
      }
    }
    const refitted = plan.refit || !!ck?.meta.refit
    let modelCheckpoint: string | undefined
    if (refitted) {
      // Retrieval and external queries load the model from a checkpoint: the refit one.
      modelCheckpoint = 'refit-final.ckpt'
      const pos = { epoch: selectedEpoch, batch: 0, step: 0 }
      await writeState(rc, finalModel, modelCheckpoint, pos, ck?.meta.best ?? null, {
        refit: { epochs: selectedEpoch, selectionStep: 0 }
      })
    }
    await testPhase(rc, finalModel, selectedEpoch, modelCheckpoint)
  } finally {
    for (const m of models) m.dispose()
    backbone?.dispose()
  }
}

/** Logs the selection plan at the start of a run. */
function logPlan(
  job: RunJob,
  plan: ReturnType<typeof planSelection<JobItem>>,
  log: RunCtx['log']
): void {
  if (plan.skipReason) {
    log(
      'warn',
      `No epoch selection: ${plan.skipReason}. The model trains on all training classes for the configured ${job.config.epochs} epochs.`
    )
    return
  }
  if (!plan.val) return
  const names = [...new Set(plan.val.map((i) => i.className))]
  const total = new Set(job.train.map((i) => i.classId)).size
  log(
    'info',
    `Validation split: ${names.length} of the ${total} training classes (${plan.val.length} images): ${names.slice(0, 8).join(', ')}${names.length > 8 ? ', …' : ''}.${plan.refit ? ' After the epoch count is selected on it, the model is refitted on all training classes.' : ''}`
  )
  if (plan.warning) log('warn', `Model selection is unreliable: ${plan.warning}.`)
  if (plan.note) log('info', `Small validation split: ${plan.note}.`)
}

/** The untrained model on test (and, in frozen mode, the raw backbone features). */
async function baselinePhase(
  rc: RunCtx,
  model: TrainModel,
  rawTest: { feat: Float32Array; dim: number } | null
): Promise<void> {
  const { job, cfg } = rc
  const testLabels = denseLabels(job.test).labels
  rc.progress.report(
    {
      epoch: 0,
      epochs: cfg.epochs,
      batch: 0,
      batches: 0,
      etaSec: null,
      imagesPerSec: null,
      phase: 'baseline'
    },
    true
  )
  const emb = await rc.source.embed(model, job.test)
  const base = await metricsOf(emb, testLabels, cfg.embeddingSize, job.ks, cfg.seed)
  let raw: Metrics | undefined
  if (rawTest) {
    const n = rawTest.feat.length / rawTest.dim
    raw = await metricsOf(
      l2NormalizeRows(Float32Array.from(rawTest.feat), n, rawTest.dim),
      testLabels,
      rawTest.dim,
      job.ks,
      cfg.seed
    )
    rc.log(
      'info',
      `Raw backbone features (${rawTest.dim}-d) on test: R@1 ${(score(raw) * 100).toFixed(2)}.`
    )
  }
  rc.send({ type: 'baseline', metrics: base, ...(raw ? { rawMetrics: raw } : {}) })
  rc.log('info', `Untrained model on test: R@1 ${(score(base) * 100).toFixed(2)}.`)
}

/** The final model on test: metrics with per-query results, and the gallery file. */
async function testPhase(
  rc: RunCtx,
  model: TrainModel,
  selectedEpoch: number,
  modelCheckpoint: string | undefined
): Promise<void> {
  const { job, cfg, send } = rc
  rc.progress.report(
    {
      epoch: cfg.epochs,
      epochs: cfg.epochs,
      batch: 0,
      batches: 0,
      etaSec: null,
      imagesPerSec: null,
      phase: 'test'
    },
    true
  )
  const D = cfg.embeddingSize
  const testLabels = denseLabels(job.test).labels
  const emb = await rc.source.embed(model, job.test)
  const n = testLabels.length
  const r = await evaluate(emb, n, D, testLabels, {
    ks: job.ks,
    nmi: true,
    seed: cfg.seed,
    perQuery: true,
    normalized: true
  })
  const testMetrics = toMetrics(r)
  writeGallery(join(job.runDir, GALLERY_FILE), emb, n, D)
  // Per-query AP is AP@R (the MAP@R term), the same number the retrieval browser shows.
  // Queries whose class has no other member have none (NaN); they are left out.
  const pq = r.perQuery!
  const queries: { imageId: number; ap: number; correctAt1: boolean }[] = []
  for (let t = 0; t < pq.index.length; t++) {
    if (Number.isNaN(pq.apAtR[t])) continue
    queries.push({
      imageId: job.test[pq.index[t]].imageId,
      ap: pq.apAtR[t],
      correctAt1: pq.correctAt1[t] === 1
    })
  }
  const how = modelCheckpoint
    ? `refitted on all training classes for ${selectedEpoch} epochs`
    : `epoch ${selectedEpoch} selected`
  rc.log('info', `Test (${how}): R@1 ${(score(testMetrics) * 100).toFixed(2)}.`)
  send({
    type: 'result',
    testMetrics,
    galleryFile: GALLERY_FILE,
    galleryImageIds: job.test.map((i) => i.imageId),
    ...(modelCheckpoint ? { modelCheckpoint } : {}),
    queries
  })
}
