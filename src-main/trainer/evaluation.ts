/**
 * Evaluation inside the trainer: metrics of embeddings, the untrained baseline, and the final
 * test evaluation of the selected model with its gallery file and per-query results.
 */
import { join } from 'node:path'
import type { Metrics } from '../../src-preload/contract/common'
import { evaluate, toMetrics, writeGallery } from '../ml/eval'
import { l2NormalizeRows, type RunData, type RunSplits } from './data'
import { GALLERY_FILE, type RunJob } from './protocol'
import type { Progress, Send } from './reporting'

/** The model-selection score of metrics: Recall@1. */
export const score = (m: Metrics): number => m.recall['1'] ?? 0

const pct = (m: Metrics): string => (score(m) * 100).toFixed(2)

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

/**
 * Evaluates the untrained model on test (and, in frozen mode, the raw backbone features) and
 * sends the baseline — once per run: a resumed run without one can no longer measure it.
 */
export async function reportBaseline(
  job: RunJob,
  run: RunData,
  splits: RunSplits,
  evalOnce: (which: 'test', phase: 'baseline') => Promise<{ metrics: Metrics }>,
  progress: Progress,
  send: Send
): Promise<void> {
  if (job.hasBaseline) return
  if (job.checkpoint) {
    progress.log(
      'warn',
      'No baseline was recorded before this checkpoint; the untrained model cannot be evaluated any more.'
    )
    return
  }
  const cfg = job.config
  const base = await evalOnce('test', 'baseline')
  send({ type: 'baseline', metrics: base.metrics })
  if (run.rawTest) {
    const { feat, dim } = run.rawTest
    const n = feat.length / dim
    const raw = await metricsOf(
      l2NormalizeRows(Float32Array.from(feat), n, dim),
      splits.testLabels,
      dim,
      job.ks,
      cfg.seed
    )
    progress.log('info', `Raw backbone features (${dim}-d) on test: R@1 ${pct(raw)}.`)
  }
  progress.log('info', `Untrained model on test: R@1 ${pct(base.metrics)}.`)
}

/**
 * The selected model on the test split: metrics with per-query AP@R, the gallery file, and the
 * `result` message.
 */
export async function finalTest(
  job: RunJob,
  run: RunData,
  splits: RunSplits,
  selectedEpoch: number,
  progress: Progress,
  send: Send
): Promise<void> {
  const cfg = job.config
  const D = cfg.embeddingSize
  const emb = await run.embedder('test')
  const n = splits.testLabels.length
  const r = await evaluate(emb, n, D, splits.testLabels, {
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
  progress.log('info', `Test (epoch ${selectedEpoch} selected): R@1 ${pct(testMetrics)}.`)
  send({
    type: 'result',
    testMetrics,
    galleryFile: GALLERY_FILE,
    galleryImageIds: job.test.map((i) => i.imageId),
    queries
  })
}
