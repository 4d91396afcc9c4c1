/**
 * Bootstrap confidence intervals over test queries (Efron's percentile bootstrap): resample the
 * queries with replacement, recompute the mean of a per-query score (correct at 1 → R@1, AP@R →
 * MAP@R), and take the α/2 and 1 − α/2 quantiles of the resampled means. Paired differences of
 * two runs resample the SAME queries for both, which is what makes a gap on one test set
 * meaningful or not. Seeded, so a comparison shows the same intervals every time.
 */
import { createRng } from '../util/rng'

/** A confidence interval of a mean. */
export interface Interval {
  lo: number
  hi: number
}

/** Options of the bootstrap. */
export interface BootstrapOptions {
  /** Resamples (default 1000). */
  resamples?: number
  /** Confidence level (default 0.95). */
  level?: number
  /** Seed of the resampling (default 1). */
  seed?: number
}

/** Linear-interpolated quantile of sorted values (type 7, as numpy's default). */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length
  if (n === 0) return NaN
  const h = (n - 1) * q
  const i = Math.floor(h)
  const j = Math.min(n - 1, i + 1)
  return sorted[i] + (h - i) * (sorted[j] - sorted[i])
}

/**
 * Means of `series` (each a per-query score, all of the same length) over the same bootstrap
 * resamples: out[s][b] is the mean of series s in resample b. One index draw serves every series,
 * so paired statistics (differences) come out of the same resamples.
 */
export function bootstrapMeans(series: ArrayLike<number>[], opts: BootstrapOptions = {}): Float64Array[] {
  const B = opts.resamples ?? 1000
  const n = series[0]?.length ?? 0
  for (const s of series)
    if (s.length !== n) throw new Error('bootstrap series must have the same number of queries')
  const out = series.map(() => new Float64Array(B))
  if (n === 0) return out.map((o) => o.fill(NaN))
  const rng = createRng(opts.seed ?? 1)
  const sums = new Float64Array(series.length)
  for (let b = 0; b < B; b++) {
    sums.fill(0)
    for (let t = 0; t < n; t++) {
      const i = Math.floor(rng.next() * n)
      for (let s = 0; s < series.length; s++) sums[s] += series[s][i]
    }
    for (let s = 0; s < series.length; s++) out[s][b] = sums[s] / n
  }
  return out
}

/** The percentile interval of bootstrap means. */
export function percentileInterval(means: Float64Array, level = 0.95): Interval {
  const sorted = Float64Array.from(means).sort()
  const a = (1 - level) / 2
  return { lo: quantile(sorted, a), hi: quantile(sorted, 1 - a) }
}

/** Percentile bootstrap interval of the mean of one per-query score. */
export function bootstrapInterval(values: ArrayLike<number>, opts: BootstrapOptions = {}): Interval {
  return percentileInterval(bootstrapMeans([values], opts)[0], opts.level)
}

/**
 * Paired bootstrap of mean(a) − mean(b) over the same queries (a[i] and b[i] are one query):
 * the observed difference and its interval; `significant` when the interval excludes 0.
 */
export function pairedDifference(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  opts: BootstrapOptions = {}
): { diff: number; lo: number; hi: number; significant: boolean } {
  const n = a.length
  const d = Float64Array.from({ length: n }, (_, i) => a[i] - b[i])
  let sum = 0
  for (let i = 0; i < n; i++) sum += d[i]
  const { lo, hi } = bootstrapInterval(d, opts)
  return { diff: n ? sum / n : NaN, lo, hi, significant: lo > 0 || hi < 0 }
}
