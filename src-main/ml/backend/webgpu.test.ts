/**
 * The WebGPU part of the backend probe: the adapter is reported and a software one is flagged
 * and never picked by default; forcing it works; no adapter (VK_ICD_FILENAMES pointing nowhere)
 * or no `webgpu` package falls back with the reason, and CPU training proceeds; --device gpu
 * with nothing usable is an error naming every reason. Also the chunked AddN kernel.
 */
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import * as tf from '@tensorflow/tfjs'
import { afterAll, describe, expect, it } from 'vitest'
import { describeBackend, initBackend, NoDeviceError, parseDevice } from '.'
import { getEngine, tfjsSimEngine } from '../eval/engine'
import { isSoftwareAdapter } from './webgpu'
import { webgpuTestEnv } from './webgpuEnv.testutil'

const skip = webgpuTestEnv()
if (skip) console.warn(`webgpu adapter tests skipped: ${skip}`)
const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.resolve(here, '../../..')

afterAll(async () => {
  await initBackend({ only: ['wasm'] })
})

/** Runs a TypeScript snippet in a fresh process (Dawn reads VK_ICD_FILENAMES once per process). */
function runIsolated(code: string, env: Record<string, string>): { out: string; err: string } {
  // Inside the project, so that the snippet resolves the project's packages.
  const cache = path.join(root, 'node_modules', '.cache')
  fs.mkdirSync(cache, { recursive: true })
  const dir = fs.mkdtempSync(path.join(cache, 'hist-webgpu-'))
  const file = path.join(dir, 'probe.mts')
  fs.writeFileSync(file, code)
  const res = spawnSync(process.execPath, ['--import', 'tsx', file], {
    cwd: root,
    env: { ...process.env, HIST_BACKEND: '', HIST_DEVICE: '', ...env },
    encoding: 'utf8',
    timeout: 300_000
  })
  fs.rmSync(dir, { recursive: true, force: true })
  return { out: res.stdout, err: res.stderr }
}

describe('device names', () => {
  it('parses auto, gpu and cpu and names the bad value', () => {
    expect(parseDevice('gpu')).toBe('gpu')
    expect(() => parseDevice('cuda')).toThrow(/--device must be one of auto, gpu, cpu, got "cuda"/)
  })

  it('flags SwiftShader, lavapipe and llvmpipe as software adapters, not a real GPU', () => {
    const a = (architecture: string, description = '') => ({
      vendor: 'x',
      architecture,
      description
    })
    expect(isSoftwareAdapter(a('swiftshader'))).toBe(true)
    expect(isSoftwareAdapter(a('', 'llvmpipe (LLVM 15.0.6, 256 bits)'))).toBe(true)
    expect(isSoftwareAdapter(a('', 'lavapipe'))).toBe(true)
    expect(isSoftwareAdapter(a('ampere', 'NVIDIA GeForce RTX 3060'))).toBe(false)
    expect(isSoftwareAdapter(a('ampere'), true)).toBe(true)
  })
})

describe('without the webgpu package', () => {
  it('skips webgpu with "not installed" and falls back to wasm; --device gpu is an error', async () => {
    const missing = async (): Promise<never> => {
      throw Object.assign(new Error("Cannot find package 'webgpu'"), {
        code: 'ERR_MODULE_NOT_FOUND'
      })
    }
    const r = await initBackend({ importModule: missing, only: ['webgpu', 'wasm'] })
    expect(r.active).toBe('wasm')
    expect(r.device).toBe('cpu')
    expect(r.candidates.find((c) => c.name === 'webgpu')?.reason).toBe(
      'webgpu (dawn.node) not installed'
    )
    const err = await initBackend({ importModule: missing, device: 'gpu' }).catch((e) => e)
    expect(err).toBeInstanceOf(NoDeviceError)
    expect((err as Error).message).toMatch(
      /^no usable GPU: tensorflow-gpu: .*; webgpu: webgpu \(dawn\.node\) not installed/
    )
  })
})

describe.skipIf(skip !== null)('with the SwiftShader adapter', () => {
  it('auto reports the software adapter and does not pick it over wasm', async () => {
    const r = await initBackend({ device: 'auto' })
    expect(r.active).not.toBe('webgpu')
    const w = r.candidates.find((c) => c.name === 'webgpu')!
    expect(w.status).toBe('skipped')
    expect(w.adapter).toMatchObject({ architecture: 'swiftshader', software: true })
    expect(w.reason).toMatch(
      /is a software adapter, slower than wasm \(use --device gpu or HIST_BACKEND=webgpu/
    )
  })

  it('--device gpu (and HIST_BACKEND=webgpu) picks it, flagged as software', async () => {
    const r = await initBackend({ device: 'gpu' })
    expect(r).toMatchObject({ active: 'webgpu', device: 'gpu', requested: 'gpu' })
    expect(r.adapter).toMatchObject({ vendor: 'google', software: true })
    expect(describeBackend(r)[1]).toMatch(
      /^webgpu: in use on google swiftshader .*\(software adapter\)$/
    )
    const forced = await initBackend({ only: ['webgpu'] })
    expect(forced.active).toBe('webgpu')
  })

  it('keeps the synchronous similarity engine off webgpu (no sync download in Node)', async () => {
    await initBackend({ only: ['webgpu'] })
    expect(tfjsSimEngine()).toBeNull()
    const e = getEngine('float32', 'auto')
    const out = new Float32Array(1)
    e.sims(Float32Array.from([1, 2]), 1, Float32Array.from([3, 4]), 1, 2, out)
    expect(out[0]).toBe(11)
  })

  it('sums more tensors in one AddN than a shader can bind', async () => {
    await initBackend({ only: ['webgpu'] })
    const before = tf.memory().numTensors
    const xs = Array.from({ length: 40 }, (_, i) => tf.fill([3, 5], i + 1))
    const s = tf.addN(xs)
    expect(Array.from(await s.data())).toEqual(new Array(15).fill((40 * 41) / 2))
    tf.dispose([...xs, s])
    expect(tf.memory().numTensors).toBe(before)
  })
})

describe.skipIf(skip !== null)('with VK_ICD_FILENAMES pointing nowhere', () => {
  it('the probe says why, CPU training proceeds, and --device gpu fails with that reason', () => {
    const backend = JSON.stringify(path.join(root, 'src-main/ml/backend/index.ts'))
    const config = JSON.stringify(path.join(root, 'src-preload/contract/runs.ts'))
    const model = JSON.stringify(path.join(root, 'src-main/ml/train/model.ts'))
    const step = JSON.stringify(path.join(root, 'src-main/ml/train/step.ts'))
    const code = `
import * as tf from '@tensorflow/tfjs'
import { initBackend } from ${backend}
import { TrainConfig } from ${config}
import { TrainModel } from ${model}
import { trainStep } from ${step}
const report = await initBackend()
const cfg = TrainConfig.parse({ datasetId: 1, embeddingSize: 8, hgnnHidden: 8, seed: 2 })
const m = new TrainModel(cfg, { backbone: null, inChannels: 6, numClasses: 2 })
const x = tf.randomUniform([4, 6], 0, 1, 'float32', 1)
const y = tf.tensor1d([0, 0, 1, 1], 'int32')
const res = await trainStep(m, x, y, m.trainableVariables(0), 0)
let gpu = ''
try { await initBackend({ device: 'gpu' }) } catch (e) { gpu = (e as Error).name + ': ' + (e as Error).message }
console.log(JSON.stringify({ report, loss: res.loss, gpu }))
process.exit(0)
`
    const { out, err } = runIsolated(code, { VK_ICD_FILENAMES: '/nonexistent/icd.json' })
    const line = out.trim().split('\n').pop() ?? ''
    expect(line, err).toMatch(/^\{/)
    const res = JSON.parse(line)
    expect(res.report.active).toBe('wasm')
    const w = res.report.candidates.find((c: { name: string }) => c.name === 'webgpu')
    expect(w.reason).toBe(
      'no WebGPU adapter: VK_ICD_FILENAMES names /nonexistent/icd.json, which does not exist'
    )
    expect(Number.isFinite(res.loss)).toBe(true)
    expect(res.gpu).toMatch(
      /^NoDeviceError: no usable GPU: .*VK_ICD_FILENAMES names \/nonexistent\/icd\.json/
    )
  })
})
