/**
 * The Review step's list of every effective setting of a training config, as label/value rows.
 * Pure, so it is unit-tested: nothing the run will use may be missing from Review.
 */
import type { DatasetSummary, TrainConfig } from '../../../src-preload/contract'
import { formatNumber } from '../format'
import { BACKBONES, LOSSES, usesLrDs, usesMargin, usesScale } from './trainChoices'
import { splitClassCounts } from './trainWarnings'

export type ReviewRow = [label: string, value: string]

/** What the review needs besides the config. */
export interface ReviewContext {
  dataset: DatasetSummary | null
  /** The preset's label, or 'custom'. */
  presetLabel: string
  /** Where the run will compute (e.g. "wasm", "webgpu · Intel Arc"), or null while unknown. */
  device: string | null
  /** The micro-batch the probe resolved on that backend (null before it answered). */
  microBatch?: number | null
}

/** Gradient accumulation in words: how a batch goes through the backbone. */
export function microBatchText(c: TrainConfig, resolved: number | null | undefined): string {
  if (c.frozen) return 'none (frozen: the head trains on features)'
  const n = resolved ?? (c.microBatch === 'auto' ? null : Math.min(c.microBatch, c.batchSize))
  if (n === null) return 'auto (measuring…)'
  const how = c.microBatch === 'auto' ? 'auto' : 'set'
  if (n >= c.batchSize) return `none: the whole batch at once (${how})`
  const k = Math.ceil(c.batchSize / n)
  return `${k} micro-batches of ${n} per batch of ${c.batchSize} (${how}), one exact step for the whole batch`
}

/** The split in words: the dataset's own split, class ranges, a seeded share or groups. */
export function splitText(c: TrainConfig, dataset: DatasetSummary | null): string {
  const s = c.split
  switch (s.kind) {
    case 'preset': {
      const train = dataset?.splits.find((x) => x.name === 'train')
      const test = dataset?.splits.find((x) => x.name === 'test')
      if (!dataset) return "the dataset's own split"
      return train && test
        ? `the dataset's own: ${train.classCount} classes train, ${test.classCount} test`
        : 'seeded half/half (the dataset has no split of its own)'
    }
    case 'class-range':
      return `classes ${s.train[0]}–${s.train[1]} train, ${s.test[0]}–${s.test[1]} test`
    case 'class-ratio':
      return `${Math.round(s.trainRatio * 100)} % of classes train (seed ${s.seed})`
    case 'group':
      return `groups ${s.train.join(', ')} train; ${s.test.join(', ')} test`
  }
}

function backboneText(c: TrainConfig): string {
  const b = c.backbone
  const label = BACKBONES.find((x) => x.value === b.kind)?.label ?? b.kind
  if (b.kind === 'small-cnn') return `${label}, ${b.inputSize} px`
  if (b.kind === 'local')
    return `${label} (${b.modelPath}, layer ${b.featureNode}, ${b.inputSize} px)`
  if (b.kind === 'download') return `${label} (${b.name})`
  return label
}

function selectionText(c: TrainConfig, dataset: DatasetSummary | null): [string, string] {
  const share = `${Math.round(c.valRatio * 100)} %`
  if (c.modelSelection === 'test') return ['none', 'the test split (optimistic, as the paper)']
  const counts = dataset ? splitClassCounts(c, dataset) : null
  if (counts?.skipReason)
    return ['none', `no selection: ${counts.skipReason}; trains all classes for the set epochs`]
  const classes = counts
    ? `${counts.val} of ${counts.train} training classes (${share})`
    : `${share} of the training classes`
  const how =
    c.modelSelection === 'val'
      ? 'validation classes (they are not trained on)'
      : 'validation classes, then a refit on all training classes'
  return [classes, c.acceptSmallValidation ? `${how}; a small split is accepted` : how]
}

/** Every effective setting, grouped as the wizard's steps are. */
export function reviewRows(c: TrainConfig, ctx: ReviewContext): ReviewRow[] {
  const [valClasses, selectedOn] = selectionText(c, ctx.dataset)
  const rows: ReviewRow[] = [
    ['Run name', c.name ?? 'automatic (given when the run starts)'],
    ['Dataset', ctx.dataset?.name ?? `#${c.datasetId}`],
    ['Split', splitText(c, ctx.dataset)],
    ['Validation classes', valClasses],
    ['Best epoch chosen on', selectedOn],
    ['Preset', ctx.presetLabel],
    ['Backbone', backboneText(c)],
    ['Backbone training', c.frozen ? 'frozen (head only, cached features)' : 'fine-tuned'],
    ['Embedding size', String(c.embeddingSize)],
    ['Loss', LOSSES.find((l) => l.value === c.loss)?.label ?? c.loss],
    [
      'Epochs × batch',
      `${c.epochs} × ${c.batchSize} (${c.sampler}${c.sampler === 'balanced' ? `, ${c.ipc} per class` : ''})`
    ],
    [
      'Learning rate',
      `${formatNumber(c.lr)}, ×${c.lrDecayGamma} every ${c.lrDecayStep} epochs, ${c.optimizer}`
    ],
    ['Weight decay', formatNumber(c.weightDecay)],
    ['Warm-up epochs', c.frozen ? `${c.warm} (no effect: the backbone is frozen)` : String(c.warm)],
    ['Batch-norm statistics', c.bnFreeze ? 'frozen' : 'updated'],
    ['Gradient accumulation', microBatchText(c, ctx.microBatch)]
  ]
  if (usesLrDs(c.loss)) rows.push([c.loss === 'hist' ? 'lr_ds' : 'Proxy lr', formatNumber(c.lrDs)])
  if (c.loss === 'hist') {
    rows.push(['τ, α, λ_s', `${c.tau}, ${c.alpha}, ${c.ls}`])
    rows.push(['HGNN hidden size', String(c.hgnnHidden)])
    rows.push(['HGNN learning rate', `× ${c.lrHgnnFactor} the lr`])
  }
  if (usesMargin(c.loss)) rows.push(['Margin', formatNumber(c.margin)])
  if (usesScale(c.loss)) rows.push(['Scale', formatNumber(c.scale)])
  rows.push(['Seed', String(c.seed)])
  rows.push(['Device', ctx.device ?? 'checking…'])
  return rows
}
