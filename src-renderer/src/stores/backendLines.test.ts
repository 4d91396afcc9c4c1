import { describe, expect, it } from 'vitest'
import { backendLines, deviceSummary, fastPathSummary } from './backendLines'

describe('backendLines', () => {
  it('says which backend is in use and why each other one was skipped', () => {
    expect(
      backendLines({
        active: 'wasm',
        candidates: [
          {
            name: 'tensorflow-gpu',
            status: 'skipped',
            reason: '@tensorflow/tfjs-node-gpu not installed'
          },
          { name: 'tensorflow', status: 'skipped' },
          { name: 'wasm', status: 'in-use' },
          { name: 'cpu', status: 'available' }
        ]
      })
    ).toEqual([
      'tensorflow-gpu: @tensorflow/tfjs-node-gpu not installed',
      'tensorflow: skipped',
      'wasm: in use',
      'cpu: available'
    ])
  })
  it('says the probe is still running when there is no report', () => {
    expect(backendLines(null)[0]).toMatch(/checking/)
  })
})

describe('fastPathSummary', () => {
  it('counts the paths that are on and gives each reason in the tooltip', () => {
    expect(fastPathSummary(null)).toBeNull()
    expect(fastPathSummary([])).toBeNull()
    expect(
      fastPathSummary([
        { name: 'wasm-simd', active: true, detail: 'fused kernels' },
        { name: 'fused-adam-cpu', active: false, detail: 'off: the active backend is wasm' }
      ])
    ).toEqual({
      text: 'Fast kernels: 1 of 2 on',
      title: 'wasm-simd: on (fused kernels)\nfused-adam-cpu: off: the active backend is wasm'
    })
  })
})

describe('deviceSummary', () => {
  it('names the device, the backend and a software adapter', () => {
    expect(deviceSummary(null)).toBeNull()
    expect(deviceSummary({ active: 'wasm', candidates: [], device: 'cpu' })).toBe(
      'Device: CPU (wasm)'
    )
    expect(
      deviceSummary({
        active: 'webgpu',
        candidates: [],
        device: 'gpu',
        adapter: {
          vendor: 'google',
          architecture: 'swiftshader',
          description: 'SwiftShader driver 5.0.0',
          software: true
        }
      })
    ).toBe('Device: GPU (webgpu on google swiftshader, software adapter)')
  })
})
