/**
 * Optional native similarity kernel (native/simkernel.cc, N-API, AVX2+FMA when the CPU has it).
 * It is built when the app is installed (binding.gyp, scripts/build-eval-kernel.mjs run by npm's
 * install step; `npm run build:native` by hand), never at run time. When the addon is missing (no
 * C++ toolchain at install, a bundled app without it) the callers fall back to the pure-JS or
 * TensorFlow.js kernel, which gives the same results in float32 up to summation order.
 */
import fs from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

/** The functions the compiled addon exports. */
export interface NativeKernel {
  /** out[i*nb + j] = <a_i, b_j> for row-major a (na×d) and b (nb×d), over `threads` threads. */
  sims(
    a: Float32Array,
    na: number,
    b: Float32Array,
    nb: number,
    d: number,
    out: Float32Array,
    threads: number
  ): void
  /** Row pass of the rank counting (see countRow in metrics.ts); adds to cnt. */
  countBlock(
    block: Float32Array,
    nrows: number,
    w: number,
    colStart: number,
    gLabels: Int32Array,
    qLabels: Int32Array,
    posOff: Int32Array,
    posSim: Float32Array,
    posPos: Int32Array,
    cnt: Int32Array,
    threads: number
  ): void
  /** Column pass of the symmetric rank counting (see countCol in metrics.ts); adds to cnt. */
  countBlockT(
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
    cnt: Int32Array,
    threads: number
  ): void
  /**
   * Half-precision copy of n×d rows into dst, with err[j] ≥ ‖row_j − half(row_j)‖; false when the
   * build lacks F16C or a value is outside the half range.
   */
  toHalf(src: Float32Array, n: number, d: number, dst: Uint16Array, err: Float32Array): boolean
  /** out[j] ≈ <q, half row j> accumulated in float32 (prefilter of RetrievalIndex.search). */
  simsHalf(
    q: Float32Array,
    d: number,
    h: Uint16Array,
    n: number,
    out: Float32Array,
    threads: number
  ): void
  /** Instruction set the kernel was compiled for, e.g. "avx2+fma" or "scalar". */
  kind(): string
}

/** What happened when the native kernel was looked for (for logs and benchmark output). */
export interface NativeStatus {
  kernel: NativeKernel | null
  /** Path of the loaded addon, or why none was loaded. */
  detail: string
}

let cached: NativeStatus | null = null

const ADDON = path.join('build', 'Release', 'simkernel.node')

/**
 * Where the built addon may be: HIST_EVAL_NATIVE_ADDON, else build/Release/simkernel.node in the
 * nearest folder above this module that has one (the project root in development and the CLI;
 * the app folder of a package that ships it).
 */
function addonPath(): string | null {
  const env = process.env.HIST_EVAL_NATIVE_ADDON
  if (env) return fs.existsSync(env) ? env : null
  let dir: string
  try {
    dir = path.dirname(fileURLToPath(import.meta.url))
  } catch {
    return null
  }
  for (let up = 0; up < 8; up++) {
    const p = path.join(dir, ADDON)
    if (fs.existsSync(p)) return p
    const parent = path.dirname(dir)
    if (parent === dir) break
    dir = parent
  }
  return null
}

/**
 * Loads the native kernel once per process (never compiles anything). HIST_EVAL_NATIVE=0 disables
 * it, HIST_EVAL_NATIVE_ADDON names the addon file. Never throws: failures end in `kernel: null`.
 */
export function loadNativeKernel(): NativeStatus {
  if (cached) return cached
  cached = tryLoad()
  return cached
}

/** Forgets the cached load result (tests use it with HIST_EVAL_NATIVE toggled). */
export function resetNativeKernel(): void {
  cached = null
}

function tryLoad(): NativeStatus {
  if (process.env.HIST_EVAL_NATIVE === '0')
    return { kernel: null, detail: 'disabled by HIST_EVAL_NATIVE=0' }
  const file = addonPath()
  if (!file) {
    return {
      kernel: null,
      detail: `${ADDON} not built (npm run build:native needs a C++ toolchain)`
    }
  }
  try {
    const kernel = createRequire(import.meta.url)(file) as NativeKernel
    if (
      typeof kernel.sims !== 'function' ||
      typeof kernel.countBlock !== 'function' ||
      typeof kernel.countBlockT !== 'function'
    ) {
      return {
        kernel: null,
        detail: `${file} does not export sims(), countBlock() and countBlockT()`
      }
    }
    return { kernel, detail: `${file} (${kernel.kind()})` }
  } catch (err) {
    return {
      kernel: null,
      detail: `native kernel failed to load: ${(err as Error).message.split('\n')[0]}`
    }
  }
}
