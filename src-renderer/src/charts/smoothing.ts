/**
 * Exponential moving average as TensorBoard draws it: `weight` in [0, 1) (0 = raw), debiased so
 * the first points are not pulled towards zero. Non-finite values (NaN losses) are passed through
 * and do not poison the average.
 */
export function ema(values: readonly (number | null)[], weight: number): (number | null)[] {
  const w = Math.min(Math.max(weight, 0), 0.999)
  if (w === 0) return values.slice()
  const out: (number | null)[] = new Array(values.length)
  let last = 0
  let n = 0
  for (let i = 0; i < values.length; i++) {
    const v = values[i]
    if (v === null || !Number.isFinite(v)) {
      out[i] = v
      continue
    }
    last = last * w + (1 - w) * v
    n++
    out[i] = last / (1 - Math.pow(w, n))
  }
  return out
}

/**
 * Keeps at most `max` points by taking every k-th point (always the last one), so charts stay fast
 * for long runs. Returns the indices to keep.
 */
export function thinIndices(length: number, max: number): number[] {
  if (length <= max) return Array.from({ length }, (_, i) => i)
  const step = Math.ceil(length / max)
  const out: number[] = []
  for (let i = 0; i < length; i += step) out.push(i)
  if (out[out.length - 1] !== length - 1) out.push(length - 1)
  return out
}
