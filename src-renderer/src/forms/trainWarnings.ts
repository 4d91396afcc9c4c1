/** Warnings about a valid training config whose choices are allowed but unwise. */
import {
  carveMinClasses,
  selectionClassCounts,
  validationClassCount,
  type DatasetDetail,
  type DatasetSummary,
  type SelectionClassCounts,
  type TrainConfig
} from '../../../src-preload/contract'

/**
 * The class counts of the run's split and selection plan, as far as the renderer can tell: the
 * training classes of the split, then the trainer's own rule (selectionClassCounts, shared with
 * src-main/ml/train/splits.ts planSelection) for the validation carve, the phases, and a refit
 * that skips the selection. The carve's image count is estimated from the dataset's mean images
 * per class (the seeded carve picks classes the renderer does not know).
 */
export function splitClassCounts(
  config: TrainConfig,
  dataset: DatasetSummary
): SelectionClassCounts | null {
  let train: number | null = null
  const split = config.split
  if (split.kind === 'preset') {
    // Without a split of its own the backend trains on a seeded half of the classes.
    train =
      dataset.splits.find((s) => s.name === 'train')?.classCount ??
      Math.round(dataset.classCount / 2)
  } else if (split.kind === 'class-range') {
    train = split.train[1] - split.train[0] + 1
  } else if (split.kind === 'class-ratio') {
    train = Math.round(dataset.classCount * split.trainRatio)
  } else {
    const groups = (dataset as Partial<DatasetDetail>).classes
    if (groups)
      train = groups.filter((c) => c.group !== null && split.train.includes(c.group)).length
  }
  if (train === null) return null
  const perClass = dataset.classCount > 0 ? dataset.imageCount / dataset.classCount : null
  const val = validationClassCount(train, config.valRatio, carveMinClasses(config.modelSelection))
  return selectionClassCounts(
    config.modelSelection,
    train,
    config.valRatio,
    config.acceptSmallValidation,
    perClass === null ? null : Math.round(val * perClass)
  )
}

/**
 * The fewest classes any phase of the run trains on, as far as the renderer can tell: the
 * selection phase without the carved classes (a refit afterwards trains on all of them, but the
 * selection phase's batches must be filled first).
 */
export function trainClassEstimate(config: TrainConfig, dataset: DatasetSummary): number | null {
  return splitClassCounts(config, dataset)?.selectionTrain ?? null
}

/**
 * Plausible ranges of the numeric settings: the schema accepts wider values (a researcher may
 * mean them), but outside these a run almost surely diverges or learns nothing.
 */
const PLAUSIBLE: {
  key: keyof TrainConfig
  name: string
  lo: number
  hi: number
  usual: string
  applies?: (c: TrainConfig) => boolean
}[] = [
  { key: 'lr', name: 'learning rate', lo: 1e-7, hi: 0.05, usual: '1e-5 to 1e-2' },
  {
    key: 'lrDs',
    name: 'lr_ds',
    lo: 1e-6,
    hi: 10,
    usual: '1e-3 to 1',
    applies: (c) =>
      c.loss === 'hist' || c.loss === 'proxy-anchor' || c.loss === 'normalized-softmax'
  },
  { key: 'weightDecay', name: 'weight decay', lo: 0, hi: 0.01, usual: '0 to 1e-3' },
  { key: 'tau', name: 'τ', lo: 1, hi: 200, usual: '16 to 64', applies: (c) => c.loss === 'hist' },
  {
    key: 'alpha',
    name: 'α',
    lo: 0.05,
    hi: 20,
    usual: '0.5 to 4',
    applies: (c) => c.loss === 'hist'
  },
  { key: 'ls', name: 'λ_s', lo: 0, hi: 20, usual: '0.5 to 3', applies: (c) => c.loss === 'hist' },
  {
    key: 'lrHgnnFactor',
    name: 'HGNN learning-rate factor',
    lo: 0.1,
    hi: 100,
    usual: '1 to 10',
    applies: (c) => c.loss === 'hist'
  },
  {
    key: 'scale',
    name: 'scale',
    lo: 1,
    hi: 256,
    usual: '16 to 64',
    applies: (c) =>
      c.loss === 'proxy-anchor' || c.loss === 'normalized-softmax' || c.loss === 'multi-similarity'
  },
  {
    key: 'margin',
    name: 'margin',
    lo: 0,
    hi: 2,
    usual: '0.05 to 0.5',
    applies: (c) =>
      c.loss === 'proxy-anchor' || c.loss === 'triplet' || c.loss === 'multi-similarity'
  }
]

/** A warning for each numeric setting far outside the range such runs use. */
export function implausibleValues(config: TrainConfig): string[] {
  const out: string[] = []
  for (const p of PLAUSIBLE) {
    if (p.applies && !p.applies(config)) continue
    const v = config[p.key] as number
    if (v < p.lo || v > p.hi)
      out.push(
        `The ${p.name} ${v} is far ${v > p.hi ? 'above' : 'below'} what such runs use ` +
          `(usually ${p.usual}): the run will likely ${v > p.hi ? 'diverge' : 'learn nothing'}. ` +
          'Check the value.'
      )
  }
  return out
}

/** Warnings about choices that are allowed but unwise; each is a sentence for the user. */
export function configWarnings(config: TrainConfig, dataset: DatasetSummary | null): string[] {
  const out: string[] = implausibleValues(config)
  if (dataset) {
    const train = trainClassEstimate(config, dataset)
    if (config.sampler === 'balanced' && train !== null) {
      const need = Math.ceil(config.batchSize / config.ipc)
      if (need > train)
        out.push(
          `A balanced batch of ${config.batchSize} with ${config.ipc} images per class needs ${need} classes, ` +
            `but training has only about ${train}. Lower the batch size or raise images per class.`
        )
    }
    if (train !== null && train < 2)
      out.push(
        `Training would have ${train} class${train === 1 ? '' : 'es'}; metric learning needs at least 2.`
      )
  }
  if (config.modelSelection === 'test')
    out.push(
      'The best epoch is chosen on the test split (as the official code does), so the test ' +
        'metrics will be optimistic. Choose a validation split for honest numbers.'
    )
  if (config.backbone.kind === 'small-cnn' && config.frozen)
    out.push(
      'A small CNN starts from random weights; frozen, its backbone never learns. Choose fine-tune.'
    )
  if (
    (config.loss === 'triplet' || config.loss === 'multi-similarity') &&
    config.sampler === 'random'
  )
    out.push(
      'Pair-based losses need several images of each class in a batch; random batches may have none. ' +
        'Use the balanced sampler.'
    )
  if (config.epochs > 1 && config.lrDecayStep >= config.epochs && config.lrDecayGamma < 1) {
    // harmless, only informative: the decay never happens
    out.push(
      `The learning rate never decays: the decay step (${config.lrDecayStep}) is not below the epoch count.`
    )
  }
  return out
}
