/**
 * Seeded pseudo-random numbers (mulberry32) so that samplers, transforms and weight init are
 * reproducible from a run's seed; Math.random is never used in the ML code.
 */

/** A seeded random source. */
export interface Rng {
  /** Uniform float in [0, 1). */
  next(): number
  /** Uniform integer in [0, n). */
  int(n: number): number
  /** Standard normal sample (Box–Muller). */
  normal(): number
  /** Shuffles `a` in place (Fisher–Yates) and returns it. */
  shuffle<T>(a: T[]): T[]
}

/** The bare mulberry32 generator: uniform floats in [0, 1) from a 32-bit seed, as is. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Creates a mulberry32 generator; equal seeds give equal streams. */
export function createRng(seed: number): Rng {
  // Mix the seed once so that small consecutive seeds start far apart.
  const next = mulberry32((Math.imul((seed | 0) ^ 0x9e3779b9, 0x85ebca6b) ^ 0x2545f491) >>> 0)
  let spare: number | null = null
  const int = (n: number): number => {
    if (!(n > 0)) throw new Error(`rng.int needs n > 0, got ${n}`)
    return Math.floor(next() * n)
  }
  const normal = (): number => {
    if (spare !== null) {
      const s = spare
      spare = null
      return s
    }
    let u = 0
    while (u <= Number.MIN_VALUE) u = next()
    const v = next()
    const r = Math.sqrt(-2 * Math.log(u))
    spare = r * Math.sin(2 * Math.PI * v)
    return r * Math.cos(2 * Math.PI * v)
  }
  const shuffle = <T>(a: T[]): T[] => {
    for (let i = a.length - 1; i > 0; i--) {
      const j = int(i + 1)
      const tmp = a[i]
      a[i] = a[j]
      a[j] = tmp
    }
    return a
  }
  return { next, int, normal, shuffle }
}

/** Fills a Float32Array with N(0, std²) samples from `rng`. */
export function normalArray(rng: Rng, n: number, std = 1): Float32Array {
  const out = new Float32Array(n)
  for (let i = 0; i < n; i++) out[i] = rng.normal() * std
  return out
}
