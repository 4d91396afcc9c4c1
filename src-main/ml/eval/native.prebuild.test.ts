/**
 * The prebuilt portable kernel a packaged app ships (npm run native:prebuild): the loader's
 * order (install-time build → prebuild → JS fallback), its CPU check between the baseline and
 * the x86-64-v3 variant, and that a prebuilt kernel evaluates exactly like the JS fallback.
 * The prebuilds are made by the real script, in a temporary folder.
 */
import { spawnSync } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { mulberry32 } from '../util/rng'
import { l2NormalizeRows, resetEngines } from './engine'
import { knn } from './knn'
import { evaluate } from './metrics'
import { loadNativeKernel, locateNativeKernel, resetNativeKernel } from './native'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
const TARGET = `${process.platform}-${process.arch}`
// The install-time kernel is there exactly when this machine has the toolchain the script needs.
const installed = loadNativeKernel()
const canBuild = installed.source === 'build'
if (!canBuild) console.warn(`no C++ toolchain (${installed.detail}): prebuild tests skipped`)

let tmp: string
let prebuilt: string

function root(name: string, parts: { build?: 'good' | 'broken'; prebuild?: string[] }): string {
  const dir = join(tmp, name)
  if (parts.build) {
    mkdirSync(join(dir, 'build', 'Release'), { recursive: true })
    const file = join(dir, 'build', 'Release', 'simkernel.node')
    if (parts.build === 'good') copyFileSync(installed.detail.split(' (')[0], file)
    else writeFileSync(file, 'not an addon')
  }
  if (parts.prebuild) {
    mkdirSync(join(dir, 'prebuilds', TARGET), { recursive: true })
    for (const f of parts.prebuild)
      copyFileSync(join(prebuilt, TARGET, f), join(dir, 'prebuilds', TARGET, f))
  }
  mkdirSync(dir, { recursive: true })
  return dir
}

const V3 = 'simkernel-x86-64-v3.node'
let v3Runs: boolean | undefined
/** Whether this CPU can run the x86-64-v3 variant (asked once: a loaded addon file is never rewritten). */
const cpuHasV3 = (): boolean => {
  if (v3Runs === undefined) {
    const probe = locateNativeKernel([root('probe', { prebuild: ['simkernel.node'] })])
    const cpu = probe.kernel!.cpu!().split(' ')
    v3Runs = ['avx2', 'fma', 'f16c'].every((f) => cpu.includes(f))
  }
  return v3Runs
}

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'hist-prebuild-'))
  prebuilt = join(tmp, 'out')
  if (!canBuild) return
  const r = spawnSync(
    process.execPath,
    [join(ROOT, 'scripts', 'prebuild-eval-kernel.mjs'), '--out', prebuilt],
    { encoding: 'utf8' }
  )
  if (r.status !== 0) throw new Error(`native:prebuild failed:\n${r.stdout}\n${r.stderr}`)
}, 180_000)

afterAll(() => rmSync(tmp, { recursive: true, force: true }))

afterEach(() => {
  delete process.env.HIST_EVAL_NATIVE_ADDON
  resetNativeKernel()
  resetEngines()
})

describe.skipIf(!canBuild)('the prebuilt native kernel', () => {
  it('is loaded after the install-time build and before the JS fallback', () => {
    const all = ['simkernel.node', ...(process.arch === 'x64' ? [V3] : [])]
    const both = locateNativeKernel([root('both', { build: 'good', prebuild: all })])
    expect(both.source).toBe('build')
    expect(both.detail).toContain(join('both', 'build', 'Release'))

    const broken = locateNativeKernel([root('broken', { build: 'broken', prebuild: all })])
    expect(broken.source).toBe('prebuild')
    expect(broken.detail).toContain(join('broken', 'prebuilds', TARGET))
    expect(broken.detail).toMatch(/skipped: .*build.Release.simkernel\.node failed to load/)

    // Roots are searched in order for each source: a build in a later root still wins.
    const later = locateNativeKernel([
      root('pre-only', { prebuild: all }),
      root('build-only', { build: 'good' })
    ])
    expect(later.source).toBe('build')

    const none = locateNativeKernel([root('empty', {})])
    expect(none).toEqual({
      kernel: null,
      source: null,
      detail: expect.stringMatching(/not built .* and no prebuilds\/.*npm run native:prebuild/)
    })
  })

  it.skipIf(process.arch !== 'x64')(
    'takes the x86-64-v3 variant only where the CPU has AVX2, FMA and F16C',
    () => {
      const s = locateNativeKernel([root('v3', { prebuild: ['simkernel.node', V3] })])
      expect(s.source).toBe('prebuild')
      if (cpuHasV3()) {
        expect(s.detail).toContain(V3)
        expect(s.kernel!.kind()).toBe('avx2+fma+f16c')
      } else {
        expect(s.detail).toMatch(/this CPU lacks/)
        expect(s.kernel!.kind()).toBe('scalar')
      }
      const base = locateNativeKernel([root('base', { prebuild: ['simkernel.node'] })])
      expect(base.kernel!.kind()).toBe('scalar')
      expect(base.detail).toContain(join('prebuilds', TARGET, 'simkernel.node'))
    }
  )

  it('in a packaged app: loads the copy unpacked beside app.asar, which the packaging config ships', () => {
    // Electron lists an unpacked file inside app.asar (a stand-in file here) and keeps the real
    // one in app.asar.unpacked, where a native addon must be loaded from.
    const resources = join(tmp, 'resources')
    const inAsar = join(resources, 'app.asar', 'prebuilds', TARGET)
    const real = join(resources, 'app.asar.unpacked', 'prebuilds', TARGET)
    mkdirSync(inAsar, { recursive: true })
    mkdirSync(real, { recursive: true })
    writeFileSync(join(inAsar, 'simkernel.node'), 'listed in the asar header')
    copyFileSync(join(prebuilt, TARGET, 'simkernel.node'), join(real, 'simkernel.node'))
    const s = locateNativeKernel([join(resources, 'app.asar')])
    expect(s.source).toBe('prebuild')
    expect(s.kernel!.kind()).toBe('scalar')
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>
      build: { files: string[]; asarUnpack: string[] }
    }
    expect(pkg.build.files).toContain('prebuilds/**')
    expect(pkg.build.asarUnpack).toContain('prebuilds/**')
    expect(pkg.scripts['native:prebuild']).toBe('node scripts/prebuild-eval-kernel.mjs')
  })

  const variants = ['simkernel.node', ...(process.arch === 'x64' ? [V3] : [])]
  it.each(variants)('%s evaluates like the JS fallback', async (file) => {
    if (file === V3 && !cpuHasV3()) return // cannot run here; the loader never picks it
    process.env.HIST_EVAL_NATIVE_ADDON = join(prebuilt, TARGET, file)
    resetNativeKernel()
    resetEngines()
    expect(loadNativeKernel().source).toBe('env')
    const [n, d, k] = [600, 48, 10]
    const rand = mulberry32(21)
    const centres = Float32Array.from({ length: 30 * d }, () => rand() - 0.5)
    const x = new Float32Array(n * d)
    for (let i = 0; i < n; i++)
      for (let c = 0; c < d; c++) x[i * d + c] = centres[(i % 30) * d + c] + 0.4 * (rand() - 0.5)
    const labels = Int32Array.from({ length: n }, (_, i) => i % 30)
    const opts = { precision: 'float32' as const, ks: [1, 4, 16] }
    const nat = await evaluate(x, n, d, labels, { ...opts, engine: 'native' })
    const js = await evaluate(x, n, d, labels, { ...opts, engine: 'js' })
    expect(nat.engine).toMatch(/^native/)
    expect(nat.recall).toEqual(js.recall)
    expect(nat.mapAtR).toBeCloseTo(js.mapAtR, 6)
    const g = l2NormalizeRows(x, n, d)
    const a = knn(g.subarray(0, 20 * d), 20, g, n, d, k, { engine: 'native', excludeSelf: true })
    const b = knn(g.subarray(0, 20 * d), 20, g, n, d, k, { engine: 'js', excludeSelf: true })
    expect(Array.from(a.indices)).toEqual(Array.from(b.indices))
    for (let t = 0; t < a.sims.length; t++)
      expect(Math.abs(a.sims[t] - b.sims[t])).toBeLessThanOrEqual(1e-5)
  })
})
