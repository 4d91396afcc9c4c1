/**
 * Checks of a training config that need more than its schema: the files and catalogue entries
 * it names. Run before a run is queued or probed, so that a wrong request is answered 400 with
 * the field named, not discovered later by the trainer.
 */
import { accessSync, constants, statSync } from 'node:fs'
import { invalidField } from '../../src-preload/contract/errors'
import type { TrainConfig } from '../../src-preload/contract/runs'
import { findDownloadable } from '../ml/models/download'
import { planSelection } from '../ml/train/splits'
import { getDatasetItems } from '../datasets/queries'
import type { AppContext } from '../app/context'

/** Throws InvalidError naming `backbone.modelPath` or `backbone.name` when it cannot be used. */
export function checkBackbone(config: Pick<TrainConfig, 'backbone'>): void {
  const b = config.backbone
  if (b.kind === 'download') {
    findDownloadable(b.name) // InvalidError listing the known names
  } else if (b.kind === 'local') {
    let problem: string | null = null
    try {
      if (!statSync(b.modelPath).isFile()) problem = `${b.modelPath} is not a file`
      else accessSync(b.modelPath, constants.R_OK)
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      problem =
        code === 'ENOENT'
          ? `${b.modelPath} does not exist`
          : `${b.modelPath} cannot be read (${code ?? 'error'})`
    }
    if (problem) throw invalidField('backbone.modelPath', problem)
  }
}

/**
 * Throws InvalidError naming `batchSize` when the balanced sampler cannot fill one batch: it
 * takes batchSize / ipc classes (each with ≥ 2 images) per batch from the classes the selection
 * phase trains on, that is the run's training classes minus the validation carve (the trainer's
 * own planSelection, same seed, so the count is exact). Without this the run is queued and then
 * fails in the trainer.
 */
export function checkBalancedBatches(ctx: AppContext, config: TrainConfig): void {
  if (config.sampler !== 'balanced') return
  const need = config.batchSize / config.ipc
  const items = getDatasetItems(ctx, config.datasetId, 'train', config.split)
  if (!items.length) return // buildJob names an empty split
  const perClass = (list: { classId: number }[]): number => {
    const n = new Map<number, number>()
    for (const i of list) n.set(i.classId, (n.get(i.classId) ?? 0) + 1)
    return [...n.values()].filter((c) => c >= 2).length
  }
  const all = perClass(items)
  let plan: ReturnType<typeof planSelection>
  try {
    plan = planSelection(
      items,
      config.modelSelection,
      config.valRatio,
      config.seed,
      config.acceptSmallValidation
    )
  } catch {
    return // too few classes to carve: the trainer's own error names it
  }
  const phase = perClass(plan.train)
  if (phase >= need) return
  const carve = plan.val
    ? ` after the validation carve takes ${all - phase} of ${all} training classes`
    : ''
  throw invalidField(
    'batchSize',
    `balanced batches of ${config.batchSize} with ${config.ipc} images per class (ipc) need ${need} classes, ` +
      `but training has only ${phase}${carve}. Lower batchSize, raise ipc` +
      (plan.val ? ", or use modelSelection 'test'" : '') +
      ', or use the random sampler.'
  )
}
