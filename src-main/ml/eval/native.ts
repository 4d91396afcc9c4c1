/**
 * Optional native similarity kernel (native/simkernel.cc, N-API, AVX2+FMA when the CPU has it).
 * It is built when the app is installed (binding.gyp, scripts/build-eval-kernel.mjs run by npm's
 * install step; `npm run build:native` by hand), or prebuilt portable for a packaged app
 * (`npm run native:prebuild` → prebuilds/<platform>-<arch>/), never at run time. Plain N-API, so
 * one file serves Node and Electron. The loader tries the install-time build, then the prebuilt
 * one, and when neither loads the callers fall back to the pure-JS or TensorFlow.js kernel,
 * which gives the same results in float32 up to summation order.
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
  /** Instruction set the kernel was compiled for, e.g. "avx2+fma+f16c" or "scalar". */
  kind(): string
  /** AVX features of the CPU it runs on, e.g. "avx avx2 fma f16c" (absent in older builds). */
  cpu?(): string
}

/** Where a loaded addon came from. */
export type NativeSource = 'env' | 'build' | 'prebuild'

/** What happened when the native kernel was looked for (for logs and benchmark output). */
export interface NativeStatus {
  kernel: NativeKernel | null
  /** Path of the loaded addon (and what was skipped on the way), or why none was loaded. */
  detail: string
  /**
   * HIST_EVAL_NATIVE_ADDON, the install-time build (build/Release, this machine's CPU) or a
   * prebuilt portable one (prebuilds/<platform>-<arch>); null when evaluation falls back to JS.
   */
  source: NativeSource | null
}

/** How `hist system` and the status bar name a source. */
export const NATIVE_SOURCE_LABEL: Record<NativeSource, string> = {
  env: 'from HIST_EVAL_NATIVE_ADDON',
  build: 'built at install for this CPU',
  prebuild: 'prebuilt portable build'
}

let cached: NativeStatus | null = null

const BUILD = path.join('build', 'Release', 'simkernel.node')
/** The prebuilt baseline (any CPU of the platform) and the x86-64-v3 variant with what it needs. */
const PREBUILD_BASE = 'simkernel.node'
const PREBUILD_V3 = 'simkernel-x86-64-v3.node'
const V3_NEEDS = ['avx2', 'fma', 'f16c']

/**
 * Folders that may hold build/Release or prebuilds/: this module's folder and up to 7 above it
 * (the project root in development and the CLI; the app folder, app.asar, of a package), and
 * Electron's unpacked resources.
 */
function searchRoots(): string[] {
  const roots: string[] = []
  try {
    let dir = path.dirname(fileURLToPath(import.meta.url))
    for (let up = 0; up < 8; up++) {
      roots.push(dir)
      const parent = path.dirname(dir)
      if (parent === dir) break
      dir = parent
    }
  } catch {
    // not a file URL (bundled oddly): only the resources folder below
  }
  const resources = (process as { resourcesPath?: string }).resourcesPath
  if (resources) roots.push(path.join(resources, 'app.asar.unpacked'))
  return roots
}

/** A file inside app.asar is loaded from app.asar.unpacked when it was unpacked there. */
function unpacked(file: string): string {
  const u = file.replace(/app\.asar([\\/])/, 'app.asar.unpacked$1')
  return u !== file && fs.existsSync(u) ? u : file
}

/** Requires one addon file; the kernel, or why not. */
function loadFile(file: string): { kernel: NativeKernel } | { why: string } {
  try {
    const kernel = createRequire(import.meta.url)(unpacked(file)) as NativeKernel
    if (
      typeof kernel.sims !== 'function' ||
      typeof kernel.countBlock !== 'function' ||
      typeof kernel.countBlockT !== 'function'
    ) {
      return { why: `${file} does not export sims(), countBlock() and countBlockT()` }
    }
    return { kernel }
  } catch (err) {
    return { why: `${file} failed to load: ${(err as Error).message.split('\n')[0]}` }
  }
}

/**
 * Finds and loads the kernel under `roots`, in order: the install-time build
 * (`<root>/build/Release/simkernel.node`), then the prebuilt one
 * (`<root>/prebuilds/<platform>-<arch>/`: its x86-64-v3 variant when the baseline's cpu()
 * reports AVX2, FMA and F16C, else the baseline), else none (evaluation uses TensorFlow.js or
 * JS). Never throws; `detail` names what was skipped and why. loadNativeKernel calls it with
 * this module's folders; tests point it at their own.
 */
export function locateNativeKernel(
  roots: string[],
  target = `${process.platform}-${process.arch}`
): NativeStatus {
  const skipped: string[] = []
  const after = (): string => (skipped.length ? `; skipped: ${skipped.join('; ')}` : '')
  for (const root of roots) {
    const file = path.join(root, BUILD)
    if (!fs.existsSync(file)) continue
    const r = loadFile(file)
    if ('kernel' in r) {
      return { kernel: r.kernel, detail: `${file} (${r.kernel.kind()})${after()}`, source: 'build' }
    }
    skipped.push(r.why)
  }
  for (const root of roots) {
    const dir = path.join(root, 'prebuilds', target)
    const baseFile = path.join(dir, PREBUILD_BASE)
    if (!fs.existsSync(baseFile)) continue
    const base = loadFile(baseFile)
    if (!('kernel' in base)) {
      skipped.push(base.why)
      continue
    }
    const v3File = path.join(dir, PREBUILD_V3)
    if (fs.existsSync(v3File)) {
      const cpu = typeof base.kernel.cpu === 'function' ? base.kernel.cpu().split(' ') : []
      const missing = V3_NEEDS.filter((f) => !cpu.includes(f))
      if (missing.length === 0) {
        const v3 = loadFile(v3File)
        if ('kernel' in v3) {
          const detail = `${v3File} (${v3.kernel.kind()})${after()}`
          return { kernel: v3.kernel, detail, source: 'prebuild' }
        }
        skipped.push(v3.why)
      } else {
        skipped.push(`${PREBUILD_V3}: this CPU lacks ${missing.join(', ')}`)
      }
    }
    const detail = `${baseFile} (${base.kernel.kind()})${after()}`
    return { kernel: base.kernel, detail, source: 'prebuild' }
  }
  return {
    kernel: null,
    detail:
      `${BUILD} not built (npm run build:native needs a C++ toolchain) and no ` +
      `prebuilds/${target} (npm run native:prebuild)${after()}`,
    source: null
  }
}

/**
 * Loads the native kernel once per process (never compiles anything): the install-time build,
 * else the prebuilt one, else none (see locateNativeKernel). HIST_EVAL_NATIVE=0 disables it;
 * HIST_EVAL_NATIVE_ADDON names the one addon file to use. Never throws: failures end in
 * `kernel: null`.
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
    return { kernel: null, detail: 'disabled by HIST_EVAL_NATIVE=0', source: null }
  const env = process.env.HIST_EVAL_NATIVE_ADDON
  if (env) {
    if (!fs.existsSync(env)) {
      return {
        kernel: null,
        detail: `HIST_EVAL_NATIVE_ADDON=${env} not built (npm run build:native needs a C++ toolchain)`,
        source: null
      }
    }
    const r = loadFile(env)
    return 'kernel' in r
      ? { kernel: r.kernel, detail: `${env} (${r.kernel.kind()})`, source: 'env' }
      : { kernel: null, detail: `native kernel ${r.why}`, source: null }
  }
  return locateNativeKernel(searchRoots())
}
