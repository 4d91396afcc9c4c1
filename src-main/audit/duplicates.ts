/**
 * Near duplicates: pairs of images whose embeddings are (almost) the same. A pair with one image
 * in the training split and one in the test split is a leak: the test measures memory, not
 * generalisation.
 */
import type { SimilarPairs } from './scan'

/** Split of a row: 0 = train, 1 = test (as DatasetEmbeddings.split). */
export const SPLIT_TRAIN = 0
export const SPLIT_TEST = 1

/** One near-duplicate pair of rows (a < b). */
export interface DuplicatePair {
  a: number
  b: number
  similarity: number
  /** One image is in the training split, the other in the test split. */
  leak: boolean
  /** Both carry the same label. */
  sameLabel: boolean
}

/**
 * Labels the similar pairs from `scanNeighbours`: leaks (across train/test) first, then by
 * similarity, then by rows.
 */
export function duplicatePairs(
  pairs: SimilarPairs,
  labels: ArrayLike<number>,
  split: ArrayLike<number>
): DuplicatePair[] {
  if (labels.length !== split.length)
    throw new RangeError(`labels (${labels.length}) and split (${split.length}) differ in length`)
  const out: DuplicatePair[] = []
  for (let t = 0; t < pairs.a.length; t++) {
    const a = pairs.a[t]
    const b = pairs.b[t]
    if (a >= labels.length || b >= labels.length)
      throw new RangeError(`pair (${a}, ${b}) is outside the ${labels.length} rows`)
    out.push({
      a,
      b,
      similarity: pairs.sim[t],
      leak: split[a] !== split[b],
      sameLabel: labels[a] === labels[b]
    })
  }
  return out.sort(
    (x, y) =>
      Number(y.leak) - Number(x.leak) || y.similarity - x.similarity || x.a - y.a || x.b - y.b
  )
}
