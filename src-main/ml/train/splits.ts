/**
 * Class-level bookkeeping of a run: the validation split carved from the training classes,
 * and the mapping of dataset class ids to the dense labels 0..C-1 that the losses index.
 */
import { createRng } from '../util/rng'

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
  seed: number
): { train: T[]; val: T[]; valClassIds: number[] } {
  const classIds = [...new Set(items.map((i) => i.classId))].sort((a, b) => a - b)
  if (classIds.length < 4) {
    throw new Error(
      `a validation split needs at least 4 training classes (2 to train, 2 to validate), found ${classIds.length}; use modelSelection 'test' or more classes`
    )
  }
  const nVal = Math.min(classIds.length - 2, Math.max(2, Math.round(valRatio * classIds.length)))
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
