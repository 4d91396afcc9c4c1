/**
 * Batch samplers over dataset indices: random (shuffled, drop_last like the official code) and
 * class-balanced (batchSize / ipc classes with ipc images each).
 */
import type { Rng } from '../util/rng'

/** One epoch of shuffled batches of indices into `labels`; the last short batch is dropped by default. */
export function randomBatches(
  labels: Int32Array,
  batchSize: number,
  rng: Rng,
  dropLast = true
): number[][] {
  if (!(batchSize >= 1)) throw new Error(`batch size must be ≥ 1, got ${batchSize}`)
  const order = rng.shuffle(Array.from({ length: labels.length }, (_, i) => i))
  const out: number[][] = []
  for (let i = 0; i < order.length; i += batchSize) {
    const b = order.slice(i, i + batchSize)
    if (b.length < batchSize && dropLast) break
    out.push(b)
  }
  return out
}

/**
 * One epoch (⌊N / batchSize⌋ batches) of class-balanced batches: each batch takes batchSize/ipc
 * distinct classes and ipc images of each, sampling with replacement when a class has fewer than
 * ipc images. Classes with a single image are skipped (they form no positive pair).
 */
export function balancedBatches(
  labels: Int32Array,
  batchSize: number,
  ipc: number,
  rng: Rng
): number[][] {
  if (!(ipc >= 1) || batchSize % ipc !== 0) {
    throw new Error(`batch size ${batchSize} must be a multiple of images per class ${ipc}`)
  }
  const byClass = new Map<number, number[]>()
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]
    const list = byClass.get(l)
    if (list) list.push(i)
    else byClass.set(l, [i])
  }
  const classes = [...byClass.keys()].filter((c) => (byClass.get(c) as number[]).length >= 2)
  const perBatch = batchSize / ipc
  if (classes.length < perBatch) {
    throw new Error(
      `balanced sampling needs ${perBatch} classes with ≥ 2 images per batch, found ${classes.length}`
    )
  }
  const nBatches = Math.floor(labels.length / batchSize)
  const out: number[][] = []
  for (let b = 0; b < nBatches; b++) {
    const chosen = rng.shuffle([...classes]).slice(0, perBatch)
    const batch: number[] = []
    for (const c of chosen) {
      const items = byClass.get(c) as number[]
      if (items.length >= ipc) batch.push(...rng.shuffle([...items]).slice(0, ipc))
      else for (let k = 0; k < ipc; k++) batch.push(items[rng.int(items.length)])
    }
    out.push(batch)
  }
  return out
}
