/**
 * Similarity engines: blocks of dot products between row-major matrices. The evaluation and the
 * kNN search only ever ask for a block (a few hundred query rows × the gallery), never N×N.
 *
 * - `native` (float32): the optional AVX2 kernel of native.ts, two threads;
 * - `js-f32` (float32): pure JS, products summed in float64 then rounded to float32;
 * - `js-f64` (float64): pure JS on float64 input, used for exact (oracle) evaluation of small sets;
 * - `tfjs-<backend>` (float32): tf.matMul on the active TensorFlow.js backend when it is a fast one
 *   (wasm: ~20 GFLOP/s on one core, 40× the JS loop), the fallback when the native kernel is
 *   missing, e.g. in a bundled app. It never initialises TensorFlow.js itself.
 *
 * The native and JS engines compute an element with the same arithmetic wherever it sits in a
 * block (`shapeInvariant`), so the similarity of (i, j) is the same in a full evaluation, in a
 * one-query search and in a class block; the symmetric evaluation relies on it.
 */
import os from 'node:os'
import * as tf from '@tensorflow/tfjs'
import { loadNativeKernel } from './native'

/** Float32 or float64 row-major matrix data. */
export type FArray = Float32Array | Float64Array

/** Numeric precision of similarities. */
export type Precision = 'float32' | 'float64'

/**
 * Which implementation to use: `auto` takes the native kernel when it loads, else tf.matMul when
 * a fast TensorFlow.js backend is active, else pure JS.
 */
export type EngineChoice = 'auto' | 'native' | 'tfjs' | 'js'

/** Computes out[i*nb + j] = <a_i, b_j>. */
export interface SimEngine {
  /** e.g. "native:avx2+fma", "js-f32", "js-f64". */
  readonly name: string
  readonly precision: Precision
  /**
   * An element's value does not depend on the block it is computed in (required by the
   * symmetric evaluation, which compares separately computed positives with bulk blocks).
   */
  readonly shapeInvariant: boolean
  /**
   * Fills `out` (length ≥ na·nb); a, b and out have the engine's precision. The tfjs engine keeps
   * `b` on the backend between calls: call releaseEngineCaches() before changing it in place.
   */
  sims(a: FArray, na: number, b: FArray, nb: number, d: number, out: FArray): void
  /** Optional native row pass of the rank counting (countRow of metrics.ts for each block row). */
  countBlock?(
    block: Float32Array,
    nrows: number,
    w: number,
    colStart: number,
    gLabels: Int32Array,
    qLabels: Int32Array,
    posOff: Int32Array,
    posSim: Float32Array,
    posPos: Int32Array,
    cnt: Int32Array
  ): void
  /** Optional native column pass of the symmetric rank counting (countCol of metrics.ts). */
  countBlockT?(
    block: Float32Array,
    nrows: number,
    w: number,
    rowStart: number,
    colStart: number,
    firstCol: number,
    gLabels: Int32Array,
    posOff: Int32Array,
    posSim: Float32Array,
    posPos: Int32Array,
    cnt: Int32Array
  ): void
}

/**
 * Dot products in float64 accumulation, four gallery rows at a time; a block of gallery rows is
 * reused for every query row so that it stays in cache.
 */
function jsSims(a: FArray, na: number, b: FArray, nb: number, d: number, out: FArray): void {
  const JB = 64
  for (let jb = 0; jb < nb; jb += JB) {
    const je = Math.min(nb, jb + JB)
    for (let i = 0; i < na; i++) {
      const ao = i * d
      const oo = i * nb
      let j = jb
      for (; j + 4 <= je; j += 4) {
        const b0 = j * d
        const b1 = b0 + d
        const b2 = b1 + d
        const b3 = b2 + d
        let s0 = 0
        let s1 = 0
        let s2 = 0
        let s3 = 0
        for (let k = 0; k < d; k++) {
          const x = a[ao + k]
          s0 += x * b[b0 + k]
          s1 += x * b[b1 + k]
          s2 += x * b[b2 + k]
          s3 += x * b[b3 + k]
        }
        out[oo + j] = s0
        out[oo + j + 1] = s1
        out[oo + j + 2] = s2
        out[oo + j + 3] = s3
      }
      for (; j < je; j++) {
        const bo = j * d
        let s = 0
        for (let k = 0; k < d; k++) s += a[ao + k] * b[bo + k]
        out[oo + j] = s
      }
    }
  }
}

const JS_F32: SimEngine = {
  name: 'js-f32',
  precision: 'float32',
  shapeInvariant: true,
  sims: jsSims
}
const JS_F64: SimEngine = {
  name: 'js-f64',
  precision: 'float64',
  shapeInvariant: true,
  sims: jsSims
}

let nativeEngine: SimEngine | null | undefined

/** Threads for the native kernel: HIST_EVAL_THREADS, else the available cores (at most 8). */
export function threadCount(): number {
  const env = Number(process.env.HIST_EVAL_THREADS)
  if (Number.isInteger(env) && env > 0) return env
  return Math.max(1, Math.min(8, os.availableParallelism?.() ?? os.cpus().length))
}

/** The native float32 engine, or null when the kernel is unavailable. */
export function nativeSimEngine(): SimEngine | null {
  if (nativeEngine !== undefined) return nativeEngine
  const { kernel } = loadNativeKernel()
  if (!kernel) {
    nativeEngine = null
    return null
  }
  const threads = threadCount()
  nativeEngine = {
    name: `native:${kernel.kind()}`,
    precision: 'float32',
    shapeInvariant: true,
    sims(a, na, b, nb, d, out) {
      if (
        !(a instanceof Float32Array) ||
        !(b instanceof Float32Array) ||
        !(out instanceof Float32Array)
      ) {
        throw new TypeError('the native engine works on Float32Array only')
      }
      kernel.sims(a, na, b, nb, d, out, threads)
    },
    countBlock(block, nrows, w, colStart, gLabels, qLabels, posOff, posSim, posPos, cnt) {
      kernel.countBlock(
        block,
        nrows,
        w,
        colStart,
        gLabels,
        qLabels,
        posOff,
        posSim,
        posPos,
        cnt,
        threads
      )
    },
    countBlockT(
      block,
      nrows,
      w,
      rowStart,
      colStart,
      firstCol,
      gLabels,
      posOff,
      posSim,
      posPos,
      cnt
    ) {
      kernel.countBlockT(
        block,
        nrows,
        w,
        rowStart,
        colStart,
        firstCol,
        gLabels,
        posOff,
        posSim,
        posPos,
        cnt,
        threads
      )
    }
  }
  return nativeEngine
}

/** Forgets the cached native engine (tests toggle HIST_EVAL_NATIVE) and frees tfjs caches. */
export function resetEngines(): void {
  nativeEngine = undefined
  releaseEngineCaches()
}

/**
 * TensorFlow.js backends fast enough to be worth a matMul per block. Only backends that can read
 * back synchronously (the engine's interface is synchronous): not webgpu, which in Node has no
 * synchronous download (its readSync needs OffscreenCanvas); there the native or JS engine runs.
 */
const FAST_TF_BACKENDS = new Set(['wasm', 'tensorflow'])

/**
 * The gallery of the last tfjs call, transposed to d×nb (XNNPACK's fast layout: measured 1.5
 * GFLOP/s with transposeB against 20 without) and kept on the backend, since one gallery is
 * searched by many query blocks. Released by `releaseEngineCaches`.
 */
let tfGallery: {
  buffer: ArrayBufferLike
  offset: number
  nb: number
  d: number
  t: tf.Tensor2D
} | null = null

/** Disposes the gallery tensor cached by the tfjs engine (evaluate calls it when done). */
export function releaseEngineCaches(): void {
  tfGallery?.t.dispose()
  tfGallery = null
}

function tfGalleryTensor(b: Float32Array, nb: number, d: number): tf.Tensor2D {
  const c = tfGallery
  if (c && c.buffer === b.buffer && c.offset === b.byteOffset && c.nb === nb && c.d === d)
    return c.t
  releaseEngineCaches()
  const t = tf.tidy(() => tf.transpose(tf.tensor2d(b.subarray(0, nb * d), [nb, d])) as tf.Tensor2D)
  tfGallery = { buffer: b.buffer, offset: b.byteOffset, nb, d, t }
  return t
}

function activeBackend(): string | null {
  try {
    return tf.getBackend() ?? null
  } catch {
    return null
  }
}

/** tf.matMul on the active backend, or null when no fast backend is active. */
export function tfjsSimEngine(): SimEngine | null {
  const backend = activeBackend()
  if (!backend || !FAST_TF_BACKENDS.has(backend)) return null
  return {
    name: `tfjs-${backend}`,
    precision: 'float32',
    // XNNPACK happens to be shape-invariant here, but nothing promises it: row mode only.
    shapeInvariant: false,
    sims(a, na, b, nb, d, out) {
      if (
        !(a instanceof Float32Array) ||
        !(b instanceof Float32Array) ||
        !(out instanceof Float32Array)
      ) {
        throw new TypeError('the tfjs engine works on Float32Array only')
      }
      const bt = tfGalleryTensor(b, nb, d)
      const res = tf.tidy(() => tf.matMul(tf.tensor2d(a.subarray(0, na * d), [na, d]), bt))
      try {
        out.set(res.dataSync() as Float32Array)
      } finally {
        res.dispose()
      }
    }
  }
}

/** Picks an engine for a precision; float64 is always pure JS. */
export function getEngine(precision: Precision, choice: EngineChoice = 'auto'): SimEngine {
  if (precision === 'float64') return JS_F64
  if (choice === 'js') return JS_F32
  if (choice === 'tfjs') {
    const t = tfjsSimEngine()
    if (!t)
      throw new Error(
        `no fast TensorFlow.js backend is active (backend: ${activeBackend() ?? 'none'})`
      )
    return t
  }
  const native = nativeSimEngine()
  if (native) return native
  if (choice === 'native') {
    throw new Error('the native similarity kernel is not available (see loadNativeKernel().detail)')
  }
  return tfjsSimEngine() ?? JS_F32
}

/** Allocates a similarity buffer of the engine's precision. */
export function allocSims(engine: SimEngine, size: number): FArray {
  return engine.precision === 'float64' ? new Float64Array(size) : new Float32Array(size)
}

/**
 * L2-normalises each row into a new Float32Array (or `out`), as the official code does:
 * x / sqrt(Σx² + 1e-12), so an all-zero row stays zero instead of becoming NaN.
 */
export function l2NormalizeRows(
  data: ArrayLike<number>,
  n: number,
  d: number,
  out?: Float32Array
): Float32Array {
  const res = out ?? new Float32Array(n * d)
  normalizeInto(data, n, d, res)
  return res
}

/** L2-normalises each row into a new Float64Array (exact path for small inputs and oracles). */
export function l2NormalizeRows64(data: ArrayLike<number>, n: number, d: number): Float64Array {
  const res = new Float64Array(n * d)
  normalizeInto(data, n, d, res)
  return res
}

function normalizeInto(data: ArrayLike<number>, n: number, d: number, out: FArray): void {
  if (data.length < n * d) throw new RangeError(`expected ${n}×${d} values, got ${data.length}`)
  for (let i = 0; i < n; i++) {
    const o = i * d
    let ss = 0
    for (let k = 0; k < d; k++) ss += data[o + k] * data[o + k]
    const inv = 1 / Math.sqrt(ss + 1e-12)
    for (let k = 0; k < d; k++) out[o + k] = data[o + k] * inv
  }
}

/** Throws when a value is NaN or infinite (a ranking of NaN similarities means nothing). */
export function assertFinite(data: ArrayLike<number>, what: string): void {
  for (let i = 0; i < data.length; i++) {
    const v = data[i]
    if (!(v - v === 0)) throw new RangeError(`${what} holds a non-finite value at ${i}`)
  }
}
