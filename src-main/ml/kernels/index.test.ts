/** Explicit registration of the fast kernels, per backend, and the tfjs version check. */
import * as tf from '@tensorflow/tfjs'
import '@tensorflow/tfjs-backend-wasm'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { hasFusedAdam } from './adam'
import {
  KERNELS_WRITTEN_FOR,
  fastPathStatus,
  registerFastKernels,
  tfjsVersionMismatch,
  type FastPathStatus
} from './index'
import { fastTranspose } from './transpose'
import { activeSimdKernels } from './wasmSimd'

const byName = (s: FastPathStatus[], n: string) => s.find((p) => p.name === n)

describe('tfjsVersionMismatch', () => {
  it('is null for the versions the kernels were written for', () => {
    expect(tfjsVersionMismatch({ ...KERNELS_WRITTEN_FOR })).toBeNull()
    // And the installed packages are those versions (package.json pins them exactly).
    expect(tfjsVersionMismatch()).toBeNull()
  })

  it('package.json pins every @tensorflow package exactly, at the version of the kernels', () => {
    const pkg = JSON.parse(readFileSync(join(process.cwd(), 'package.json'), 'utf8')) as Record<
      string,
      Record<string, string> | undefined
    >
    const tfjs = ['dependencies', 'devDependencies', 'optionalDependencies'].flatMap((field) =>
      Object.entries(pkg[field] ?? {}).filter(([name]) => name.startsWith('@tensorflow/'))
    )
    expect(tfjs.map(([name]) => name)).toContain('@tensorflow/tfjs-backend-wasm')
    for (const [name, spec] of tfjs)
      expect(`${name}@${spec}`).toBe(`${name}@${KERNELS_WRITTEN_FOR['@tensorflow/tfjs-core']}`)
  })

  it('names the package, the installed and the expected version', () => {
    const why = tfjsVersionMismatch({
      ...KERNELS_WRITTEN_FOR,
      '@tensorflow/tfjs-backend-wasm': '4.23.0'
    })
    expect(why).toBe(
      `@tensorflow/tfjs-backend-wasm 4.23.0 is installed; the kernels were written for ${KERNELS_WRITTEN_FOR['@tensorflow/tfjs-backend-wasm']}`
    )
    expect(tfjsVersionMismatch({})).toMatch(/@tensorflow\/tfjs-core \(missing\)/)
  })
})

describe('registerFastKernels', () => {
  it('nothing is registered by importing the kernel modules', () => {
    expect(fastPathStatus()).toEqual([])
    expect(tf.getKernel('HistStudioTranspose2D', 'wasm')).toBeUndefined()
    expect(tf.getKernel('HistStudioAdamStep', 'wasm')).toBeUndefined()
    expect(tf.getKernel('HistStudioAdamStep', 'cpu')).toBeUndefined()
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeUndefined()
  })

  it('on cpu: only the cpu Adam kernel, and the wasm paths say why they are off', async () => {
    await tf.setBackend('cpu')
    const s = registerFastKernels('cpu')
    expect(s.map((p) => p.name)).toEqual([
      'wasm-simd',
      'wasm-gradients',
      'fused-adam-cpu',
      'eval-similarity'
    ])
    expect(byName(s, 'fused-adam-cpu')?.active).toBe(true)
    expect(byName(s, 'wasm-simd')).toMatchObject({ active: false })
    expect(byName(s, 'wasm-simd')?.detail).toMatch(/active backend is cpu/)
    expect(tf.getKernel('HistStudioTranspose2D', 'wasm')).toBeUndefined()
    expect(hasFusedAdam()).toBe(true)
    expect(fastPathStatus()).toEqual(s)
  })

  it('on webgpu (or any other backend): no wasm path runs', () => {
    const s = registerFastKernels('webgpu')
    expect(s.filter((p) => p.name !== 'eval-similarity').every((p) => !p.active)).toBe(true)
    expect(byName(s, 'wasm-gradients')?.detail).toMatch(/active backend is webgpu/)
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeUndefined()
  })

  it('on wasm with another tfjs-backend-wasm: the SIMD path is off with the reason, training still works', async () => {
    await tf.setBackend('wasm')
    await tf.ready()
    const s = registerFastKernels('wasm', {
      installed: { ...KERNELS_WRITTEN_FOR, '@tensorflow/tfjs-backend-wasm': '4.23.0' }
    })
    expect(byName(s, 'wasm-simd')).toMatchObject({ active: false })
    expect(byName(s, 'wasm-simd')?.detail).toMatch(/tfjs-backend-wasm 4\.23\.0 is installed/)
    expect(byName(s, 'wasm-gradients')).toMatchObject({ active: false })
    expect(activeSimdKernels()).toBeNull()
    expect(tf.getKernel('HistStudioTranspose2D', 'wasm')).toBeUndefined()
    // The missing gradients (public ops only) are still there: conv nets can train on wasm.
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined()
    const x = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3])
    const t = fastTranspose(x)
    expect(Array.from(t.dataSync())).toEqual([1, 4, 2, 5, 3, 6])
    tf.dispose([x, t])
  })

  it('on wasm with the expected versions: every wasm path is on', async () => {
    await tf.setBackend('wasm')
    const s = registerFastKernels('wasm')
    expect(byName(s, 'wasm-simd')).toMatchObject({ active: true })
    expect(byName(s, 'wasm-gradients')).toMatchObject({ active: true })
    expect(byName(s, 'fused-adam-cpu')).toMatchObject({ active: false })
    expect(activeSimdKernels()).not.toBeNull()
    expect(tf.getKernel('HistStudioTranspose2D', 'wasm')).toBeDefined()
    expect(hasFusedAdam()).toBe(true)
    // Switching to another backend switches the SIMD path off again.
    registerFastKernels('webgpu')
    expect(activeSimdKernels()).toBeNull()
    registerFastKernels('wasm')
  })
})
