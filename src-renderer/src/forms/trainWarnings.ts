/** Warnings about a valid training config whose choices are allowed but unwise. */
import type { DatasetDetail, DatasetSummary, TrainConfig } from '../../../src-preload/contract'

/** How many classes the training part will have, as far as the renderer can tell. */
export function trainClassEstimate(config: TrainConfig, dataset: DatasetSummary): number | null {
  let train: number | null = null
  const split = config.split
  if (split.kind === 'preset') {
    // Without a standard split the backend trains on a seeded half of the classes.
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
  if (config.modelSelection === 'val')
    train = Math.max(0, train - Math.round(train * config.valRatio))
  return train
}

/** Warnings about choices that are allowed but unwise; each is a sentence for the user. */
export function configWarnings(config: TrainConfig, dataset: DatasetSummary | null): string[] {
  const out: string[] = []
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
