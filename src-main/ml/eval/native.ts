/**
 * Optional native similarity kernel (native/simkernel.cc, N-API, AVX2+FMA when the CPU has it).
 * It is compiled on first use with the system g++ against the running Node's headers and cached
 * per source/CPU/ABI; when anything is missing (no g++, no headers, a bundled app without the
 * source) the callers fall back to the pure-JS kernel, which gives the same results in float32
 * up to summation order.
 */
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
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

function sourcePath(): string | null {
  // A bundled app does not ship the source next to its code: HIST_EVAL_NATIVE_SRC can point at it.
  const env = process.env.HIST_EVAL_NATIVE_SRC
  if (env) return fs.existsSync(env) ? env : null
  try {
    const here = path.dirname(fileURLToPath(import.meta.url))
    const p = path.join(here, 'native', 'simkernel.cc')
    return fs.existsSync(p) ? p : null
  } catch {
    return null
  }
}

function nodeIncludeDir(): string | null {
  const candidates = [
    process.env.HIST_NODE_INCLUDE,
    path.resolve(path.dirname(process.execPath), '..', 'include', 'node'),
    '/usr/local/include/node',
    '/usr/include/node'
  ]
  for (const c of candidates) if (c && fs.existsSync(path.join(c, 'node_api.h'))) return c
  return null
}

function cacheDir(): string {
  return process.env.HIST_EVAL_NATIVE_DIR ?? path.join(os.tmpdir(), 'hist-eval-native')
}

/**
 * Loads (building if needed) the native kernel once per process. HIST_EVAL_NATIVE=0 disables it,
 * HIST_EVAL_NATIVE_DIR moves the build cache, HIST_EVAL_NATIVE_SRC names the source file.
 * Never throws: failures end in `kernel: null`.
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
  const src = sourcePath()
  if (!src) return { kernel: null, detail: 'native kernel source not found (bundled build)' }
  const include = nodeIncludeDir()
  if (!include) return { kernel: null, detail: 'node_api.h not found (set HIST_NODE_INCLUDE)' }
  const source = fs.readFileSync(src)
  // -march=native binaries are only valid on this CPU, so the CPU model is part of the key.
  const key = createHash('sha256')
    .update(source)
    .update(process.arch)
    .update(process.versions.napi ?? '')
    .update(os.cpus()[0]?.model ?? '')
    .digest('hex')
    .slice(0, 16)
  const dir = cacheDir()
  const out = path.join(dir, `simkernel-${key}.node`)
  const req = createRequire(import.meta.url)
  if (!fs.existsSync(out)) {
    try {
      fs.mkdirSync(dir, { recursive: true })
      // Build to a private name, then rename: parallel test processes may build at once.
      const tmp = `${out}.${process.pid}.${Date.now()}.tmp`
      execFileSync(
        'g++',
        [
          '-O3',
          '-march=native',
          '-std=c++17',
          '-shared',
          '-fPIC',
          '-pthread',
          '-DNODE_GYP_MODULE_NAME=simkernel',
          `-I${include}`,
          src,
          '-o',
          tmp
        ],
        { stdio: 'pipe', timeout: 120_000 }
      )
      fs.renameSync(tmp, out)
    } catch (err) {
      const e = err as { stderr?: Buffer; message?: string }
      const why = (e.stderr?.toString() || e.message || String(err)).split('\n')[0].slice(0, 200)
      return { kernel: null, detail: `native kernel build failed: ${why}` }
    }
  }
  try {
    const kernel = req(out) as NativeKernel
    if (
      typeof kernel.sims !== 'function' ||
      typeof kernel.countBlock !== 'function' ||
      typeof kernel.countBlockT !== 'function'
    ) {
      return {
        kernel: null,
        detail: `${out} does not export sims(), countBlock() and countBlockT()`
      }
    }
    return { kernel, detail: `${out} (${kernel.kind()})` }
  } catch (err) {
    return {
      kernel: null,
      detail: `native kernel failed to load: ${(err as Error).message.split('\n')[0]}`
    }
  }
}
