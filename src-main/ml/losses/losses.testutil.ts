/** Helpers shared by the loss, HIST and optimiser tests (not used at run time). */
import * as tf from '@tensorflow/tfjs'
import '@tensorflow/tfjs-backend-wasm'
import { registerFastKernels } from '../kernels'
import { mulberry32 } from '../util/rng'

/** Largest violation of |a − e| ≤ max(atol, rtol·|e|), with where it happened; null when all pass. */
export function closeness(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  rtol = 1e-4,
  atol = 1e-5
): { index: number; actual: number; expected: number } | null {
  if (actual.length !== expected.length)
    return { index: -1, actual: actual.length, expected: expected.length }
  let worst: { index: number; actual: number; expected: number; ratio: number } | null = null
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]
    const e = expected[i]
    const err = Math.abs(a - e)
    const allowed = Math.max(atol, rtol * Math.abs(e))
    if (!(err <= allowed)) {
      const ratio = Number.isNaN(err) ? Infinity : err / allowed
      if (!worst || ratio > worst.ratio) worst = { index: i, actual: a, expected: e, ratio }
    }
  }
  return worst && { index: worst.index, actual: worst.actual, expected: worst.expected }
}

/** Flattens nested number arrays. */
export function flat(x: number | number[] | number[][]): number[] {
  return Array.isArray(x) ? (x as (number | number[])[]).flat() : [x]
}

/** Activates a backend by name, loading wasm if needed, and registers its fast kernels as initBackend does. */
export async function useBackend(name: 'wasm' | 'cpu'): Promise<void> {
  if (!(await tf.setBackend(name))) throw new Error(`backend ${name} failed to initialise`)
  await tf.ready()
  registerFastKernels(name)
}

/** Seeded uniform PRNG (mulberry32) for test data. */
export const rng = mulberry32

/** Standard normal samples from a seeded PRNG (Box–Muller). */
export function randn(n: number, seed: number): number[] {
  const r = rng(seed)
  const out: number[] = []
  while (out.length < n) {
    const u = Math.max(r(), 1e-12)
    const v = r()
    out.push(Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v))
  }
  return out
}
