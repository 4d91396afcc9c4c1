import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { apiSchemas, type AppEvent, type BackendReport } from '../../src-preload/contract'
import { closeContext, createContext, type AppContext } from '../app/context'
import { createServices } from './index'
import { backendLines, createSystemService, probedBackend, startBackendProbe } from './system'

const report: BackendReport = {
  active: 'wasm',
  candidates: [
    {
      name: 'tensorflow-gpu',
      status: 'skipped',
      reason: '@tensorflow/tfjs-node-gpu not installed'
    },
    { name: 'tensorflow', status: 'skipped', reason: '@tensorflow/tfjs-node not installed' },
    { name: 'wasm', status: 'in-use' },
    { name: 'cpu', status: 'available' }
  ],
  fastPaths: [
    { name: 'wasm-simd', active: true, detail: 'fused kernels' },
    { name: 'wasm-gradients', active: false, detail: 'off: version' }
  ]
}

let dir: string
let ctx: AppContext

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hist-system-'))
  ctx = createContext(dir, 'web')
})

afterEach(() => {
  closeContext(ctx)
  rmSync(dir, { recursive: true, force: true })
})

describe('system service', () => {
  it('reports version, mode and data folder; backend is null until probed', async () => {
    const status = await createSystemService(ctx).status()
    expect(status).toEqual({
      appVersion: ctx.appVersion,
      mode: 'web',
      dataDir: dir,
      backend: null,
      fastPaths: null
    })
    expect(status.appVersion).toMatch(/^\d+\.\d+\.\d+/)
  })

  it('probes once, emits a backend event and reports it', async () => {
    const events: AppEvent[] = []
    ctx.events.on((e) => events.push(e))
    let calls = 0
    const probe = async (): Promise<BackendReport> => {
      calls++
      return report
    }
    await Promise.all([startBackendProbe(ctx, probe), startBackendProbe(ctx, probe)])
    expect(calls).toBe(1)
    expect(events).toEqual([{ type: 'backend', backend: report }])
    expect(probedBackend(ctx)).toEqual(report)
    const status = await createSystemService(ctx).status()
    expect(status.backend).toEqual(report)
    expect(status.fastPaths).toEqual(report.fastPaths)
    expect(backendLines(report)).toContain('wasm: in use')
    expect(backendLines(report)).toContain(
      'tensorflow-gpu: @tensorflow/tfjs-node-gpu not installed'
    )
  })

  it('survives a failing probe', async () => {
    expect(
      await startBackendProbe(ctx, async () => Promise.reject(new Error('no backend')))
    ).toBeNull()
    expect(probedBackend(ctx)).toBeNull()
  })

  it('answers null for the pickers without native dialogs, and uses them when given', async () => {
    expect(await createSystemService(ctx).pickFolder()).toBeNull()
    expect(await createSystemService(ctx).pickImage()).toBeNull()
    const svc = createSystemService(ctx, {
      pickers: { pickFolder: async () => '/a', pickImage: async () => '/b.png' }
    })
    expect(await svc.pickFolder()).toBe('/a')
    expect(await svc.pickImage()).toBe('/b.png')
  })

  it('the real probe finds wasm here and says why native TensorFlow was skipped', async () => {
    const found = await startBackendProbe(ctx)
    expect(found).not.toBeNull()
    const lines = backendLines(found)
    expect(
      lines.some((l) => /^(wasm|cpu): in use$/.test(l) || /^tensorflow(-gpu)?: in use$/.test(l))
    ).toBe(true)
    // The start-up registered the fast kernels for the backend it chose and says so.
    const paths = (await createSystemService(ctx).status()).fastPaths ?? []
    expect(paths.map((p) => p.name)).toEqual([
      'wasm-simd',
      'wasm-gradients',
      'fused-adam-cpu',
      'eval-similarity'
    ])
    if (found?.active === 'wasm')
      expect(paths.find((p) => p.name === 'wasm-simd')?.active).toBe(true)
  })
})

describe('createServices', () => {
  it('wires every service of the contract to its real implementation', async () => {
    const services = createServices(ctx)
    try {
      expect(Object.keys(apiSchemas).every((k) => k in services)).toBe(true)
      expect((await services.system.status()).dataDir).toBe(dir)
      expect(await services.datasets.list()).toEqual([])
      expect(await services.runs.list()).toEqual([])
      await expect(services.retrieval.perClass({ runId: 99 })).rejects.toMatchObject({
        code: 'not_found'
      })
    } finally {
      await services.dispose()
    }
  })
})
