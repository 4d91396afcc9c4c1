/**
 * The class-count rules of model selection (the carve of validation classes from the training
 * classes, and when a split is too small to select on), pure so that the trainer
 * (src-main/ml/train/splits.ts planSelection) and the wizard's review and warnings use the same
 * numbers.
 */
import type { TrainConfig } from './runs'

/** Fewer validation classes or images than this cannot select an epoch reliably. */
export const MIN_SELECTION_CLASSES = 5
export const MIN_SELECTION_IMAGES = 50
/** A validation split needs at least this many training classes (2 to train, 2 to validate). */
export const MIN_CARVE_CLASSES = 4

/**
 * The carve-sizing rule: `valRatio` of the C training classes, rounded, but at least
 * `minClasses` (capped at a third of the classes) and at least 2, and never more than C − 2.
 * With refit (the default selection) the carve costs the final model nothing, so the runner
 * asks for MIN_SELECTION_CLASSES to make the selection less noisy.
 */
export function validationClassCount(classes: number, valRatio: number, minClasses = 2): number {
  const floor = Math.max(2, Math.min(minClasses, Math.floor(classes / 3)))
  return Math.min(classes - 2, Math.max(floor, Math.round(valRatio * classes)))
}

/** The `minClasses` of the carve for a selection mode: refit asks for more (see above). */
export function carveMinClasses(mode: TrainConfig['modelSelection']): number {
  return mode === 'refit' ? MIN_SELECTION_CLASSES : 2
}

/**
 * Why a validation split is too small to select an epoch on (null when it is large enough):
 * Recall@1 over a handful of classes is mostly noise (2 classes give 92–98 % from epoch 1).
 */
export function selectionTooSmall(valClasses: number, valImages: number): string | null {
  if (valClasses >= MIN_SELECTION_CLASSES && valImages >= MIN_SELECTION_IMAGES) return null
  return `the validation split has ${valClasses} classes and ${valImages} images, too few to select an epoch reliably (at least ${MIN_SELECTION_CLASSES} classes and ${MIN_SELECTION_IMAGES} images)`
}

/** A run's selection plan in class counts (planSelection's rule without the items). */
export interface SelectionClassCounts {
  /** Training classes of the split. */
  train: number
  /** Classes carved out to select the epoch on (0 when none are). */
  val: number
  /** Classes the selection phase trains on (train − val). */
  selectionTrain: number
  /** Classes the final model is trained on: all `train` after a refit, else `selectionTrain`. */
  finalTrain: number
  /** Why refit skips the selection (the run then trains all classes for the set epochs). */
  skipReason: string | null
}

/**
 * The class counts planSelection arrives at for `train` training classes. `valImages` is the
 * number of images of the carved classes, or null when unknown (then the split is taken to be
 * large enough when it has enough classes; only the images can make it too small otherwise).
 */
export function selectionClassCounts(
  mode: TrainConfig['modelSelection'],
  train: number,
  valRatio: number,
  acceptSmall: boolean,
  valImages: number | null
): SelectionClassCounts {
  const all = (skipReason: string | null): SelectionClassCounts => ({
    train,
    val: 0,
    selectionTrain: train,
    finalTrain: train,
    skipReason
  })
  if (mode === 'test') return all(null)
  if (mode === 'refit' && train < MIN_CARVE_CLASSES)
    return all(`only ${train} training classes, too few to carve a validation split`)
  const val = validationClassCount(train, valRatio, carveMinClasses(mode))
  const small = selectionTooSmall(val, valImages ?? MIN_SELECTION_IMAGES)
  if (mode === 'refit' && small && !acceptSmall) return all(small)
  return {
    train,
    val,
    selectionTrain: train - val,
    finalTrain: mode === 'refit' ? train : train - val,
    skipReason: null
  }
}
