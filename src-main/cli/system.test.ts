import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it, vi } from 'vitest'
import type { SystemStatus } from '../../src-preload/contract'
import { fastPathLines, formatSystem } from './system'

const dirs: string[] = []
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

/** Runs the real `hist` entry point in-process. */
async function hist(args: string[]): Promise<{ code: number; out: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'hist-cli-system-'))
  dirs.push(dataDir)
  const { main } = await import('../cli')
  let out = ''
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => {
    out += String(c)
    return true
  })
  try {
    return { code: await main(['node', 'hist', '--data-dir', dataDir, ...args]), out }
  } finally {
    o.mockRestore()
  }
}

describe('hist system', () => {
  it('--json gives the backend report and the status of every fast path', async () => {
    const prev = process.env.HIST_BACKEND
    process.env.HIST_BACKEND = 'wasm'
    try {
      const { code, out } = await hist(['system', '--json'])
      expect(code).toBe(0)
      const s = JSON.parse(out) as SystemStatus
      expect(s.backend?.active).toBe('wasm')
      expect(s.fastPaths?.map((p) => p.name)).toEqual([
        'wasm-simd',
        'wasm-gradients',
        'fused-adam-cpu',
        'eval-similarity'
      ])
      expect(s.fastPaths?.find((p) => p.name === 'wasm-simd')?.active).toBe(true)
      expect(s.fastPaths?.find((p) => p.name === 'fused-adam-cpu')).toMatchObject({
        active: false,
        detail: expect.stringMatching(/active backend is wasm/)
      })
    } finally {
      if (prev === undefined) delete process.env.HIST_BACKEND
      else process.env.HIST_BACKEND = prev
    }
  }, 60_000)

  it('prints one line per fast path, with the reason when off', () => {
    const status: SystemStatus = {
      appVersion: '1.2.3',
      mode: 'web',
      dataDir: '/d',
      backend: { active: 'cpu', candidates: [{ name: 'cpu', status: 'in-use' }] },
      fastPaths: [
        { name: 'wasm-simd', active: false, detail: 'off: the active backend is cpu' },
        { name: 'fused-adam-cpu', active: true, detail: 'fused Adam update' }
      ]
    }
    const text = formatSystem(status)
    expect(text).toContain('  cpu: in use')
    expect(text).toContain('  wasm-simd: off: the active backend is cpu')
    expect(text).toContain('  fused-adam-cpu: on (fused Adam update)')
    expect(fastPathLines(null)).toEqual(['fast kernels: unknown (no backend)'])
  })
})

describe('hist system on a machine without a usable GPU', () => {
  it("keeps Dawn's native warnings off the terminal and gives the reason in the report", () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'hist-cli-system-'))
    dirs.push(dataDir)
    // A Vulkan driver list that names nothing: Dawn finds no adapter and, in-process, would print
    // its own warnings to stderr from native code.
    const env: NodeJS.ProcessEnv = { ...process.env, VK_ICD_FILENAMES: join(dataDir, 'none.json') }
    delete env.HIST_BACKEND
    const bin = join(__dirname, '..', 'bin', 'hist.mjs')
    const res = spawnSync(process.execPath, [bin, '--data-dir', dataDir, 'system', '--json'], {
      env,
      encoding: 'utf8',
      timeout: 120_000
    })
    expect(res.status).toBe(0)
    expect(res.stderr).toBe('')
    const s = JSON.parse(res.stdout) as SystemStatus
    const webgpu = s.backend?.candidates.find((c) => c.name === 'webgpu')
    expect(webgpu?.status).toBe('skipped')
    expect(webgpu?.reason).toMatch(/no WebGPU adapter|not installed/)
  }, 150_000)
})
