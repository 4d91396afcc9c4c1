/**
 * Class-level bookkeeping of a run: the validation split carved from the training classes,
 * and the mapping of dataset class ids to the dense labels 0..C-1 that the losses index.
 */
import {
  carveMinClasses,
  MIN_CARVE_CLASSES,
  selectionTooSmall,
  validationClassCount
} from '../../../src-preload/contract/selection'
import { createRng } from '../util/rng'

// The pure class-count rules live in the contract, shared with the wizard.
export {
  MIN_SELECTION_CLASSES,
  MIN_SELECTION_IMAGES,
  selectionClassCounts,
  selectionTooSmall,
  validationClassCount
} from '../../../src-preload/contract/selection'

/** Anything with a dataset class id. */
export interface HasClass {
  classId: number
}

/**
 * Moves a seeded share of the training classes to a validation split (class-disjoint, like the
 * test protocol). At least two classes go to validation (Recall@1 over one class is
 * meaningless) and at least two stay for training; too few classes is an error.
 */
export function carveValidation<T extends HasClass>(
  items: T[],
  valRatio: number,
  seed: number,
  minClasses = 2
): { train: T[]; val: T[]; valClassIds: number[] } {
  const classIds = [...new Set(items.map((i) => i.classId))].sort((a, b) => a - b)
  if (classIds.length < MIN_CARVE_CLASSES) {
    throw new Error(
      `a validation split needs at least 4 training classes (2 to train, 2 to validate), found ${classIds.length}; use modelSelection 'test' or more classes`
    )
  }
  const nVal = validationClassCount(classIds.length, valRatio, minClasses)
  // A stream of its own, so that changing the sampler or the init does not move the split.
  const rng = createRng(seed * 7919 + 101)
  const shuffled = rng.shuffle([...classIds])
  const val = new Set(shuffled.slice(0, nVal))
  return {
    train: items.filter((i) => !val.has(i.classId)),
    val: items.filter((i) => val.has(i.classId)),
    valClassIds: [...val].sort((a, b) => a - b)
  }
}

/** Dense labels 0..C-1 for the items, classes numbered in ascending class-id order. */
export function denseLabels(items: HasClass[]): { labels: Int32Array; classIds: number[] } {
  const classIds = [...new Set(items.map((i) => i.classId))].sort((a, b) => a - b)
  const index = new Map(classIds.map((c, k) => [c, k]))
  const labels = new Int32Array(items.length)
  items.forEach((it, k) => {
    labels[k] = index.get(it.classId)!
  })
  return { labels, classIds }
}

/**
 * The selection plan of a run: which items train in the selection phase, which validate, and
 * whether a refit on all training classes follows. In refit mode a split too small to select
 * on is skipped: the run trains all classes for the configured epochs (`skipReason` says why);
 * in val mode it is used with a `warning`. `acceptSmall` (the config's acceptSmallValidation,
 * which the demo preset sets: its 5 training classes leave 2 to validate on, by design) selects
 * on such a split in either mode, with a `note` instead of a warning or a skip.
 */
export function planSelection<T extends HasClass>(
  items: T[],
  mode: 'refit' | 'val' | 'test',
  valRatio: number,
  seed: number,
  acceptSmall = false
): {
  train: T[]
  val: T[] | null
  refit: boolean
  warning: string | null
  skipReason: string | null
  note: string | null
} {
  const none = { warning: null, skipReason: null, note: null }
  if (mode === 'test') return { train: items, val: null, refit: false, ...none }
  const classes = new Set(items.map((i) => i.classId)).size
  if (mode === 'refit' && classes < MIN_CARVE_CLASSES)
    return {
      train: items,
      val: null,
      refit: false,
      ...none,
      skipReason: `only ${classes} training classes, too few to carve a validation split`
    }
  const carved = carveValidation(items, valRatio, seed, carveMinClasses(mode))
  const small = selectionTooSmall(carved.valClassIds.length, carved.val.length)
  if (small && acceptSmall) {
    return {
      train: carved.train,
      val: carved.val,
      refit: mode === 'refit',
      ...none,
      note: `${small}; accepted by the config (acceptSmallValidation)`
    }
  }
  if (mode === 'refit' && small)
    return { train: items, val: null, refit: false, ...none, skipReason: small }
  return { train: carved.train, val: carved.val, refit: mode === 'refit', ...none, warning: small }
}

/**
 * The epoch count of the refit, from the selection split's R@1 per epoch (history[e − 1] is
 * epoch e): the LONGEST training whose R@1 is within one standard error of the best
 * (Breiman's one-standard-error rule, leaning to more epochs: the refit trains on more classes,
 * and a validation split of a few hundred queries cannot tell apart epochs closer than that).
 * The standard error is the binomial one of the best R@1 over `queries` validation queries.
 */
export function refitEpochs(
  history: number[],
  queries: number
): { epochs: number; bestEpoch: number; best: number; se: number } {
  if (!history.length) throw new Error('refitEpochs needs at least one evaluated epoch')
  let bestEpoch = 1
  history.forEach((r, i) => {
    if (r > history[bestEpoch - 1]) bestEpoch = i + 1
  })
  const best = history[bestEpoch - 1]
  const se = Math.sqrt((best * (1 - best)) / Math.max(1, queries))
  let epochs = bestEpoch
  history.forEach((r, i) => {
    if (r >= best - se) epochs = Math.max(epochs, i + 1)
  })
  return { epochs, bestEpoch, best, se }
}
