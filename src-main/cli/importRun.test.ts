/**
 * Run bundles carry a verified checkpoint: export refuses a run whose checkpoint is damaged,
 * and import (service function and `hist import-run`) refuses a bundle whose model.ckpt is
 * truncated, with a named error, a non-zero exit, and nothing stored.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, truncateSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { TrainConfig } from '../../src-preload/contract/runs'
import { closeContext, createContext, type AppContext } from '../app/context'
import { CheckpointError, writeCheckpoint } from '../ml/train/checkpoints'
import { exportRunBundle, importRunBundle } from '../runs/export'
import { RunsRepo } from '../runs/repo'

let dir: string
let ctx: AppContext
let repo: RunsRepo
let dataDir: string

/** A finished run with one real (tiny) checkpoint, as the trainer leaves it. */
function finishedRun(): number {
  const datasetId = Number(
    ctx.db.prepare("INSERT INTO datasets (name, root, format) VALUES ('ds', '/x', 'folder')").run()
      .lastInsertRowid
  )
  const config = TrainConfig.parse({ datasetId, epochs: 1 })
  const id = repo.create({ name: 'r', datasetId, datasetName: 'ds', config, appVersion: 't' })
  const runDir = join(ctx.paths.runs, String(id))
  repo.setDir(id, runDir)
  writeCheckpoint(join(runDir, 'epoch-0001.ckpt'), {
    meta: { version: 1, runId: id, position: { epoch: 1, batch: 0, step: 4 }, best: null },
    sections: { head: [{ name: 'w', shape: [64], data: new Float32Array(64).fill(0.5) }] }
  })
  const metrics = { recall: { '1': 0.5 }, rPrecision: 0.2, mapAtR: 0.1 }
  repo.commitEpoch(id, {
    record: { epoch: 1, metrics, seconds: 1, imagesPerSec: 1 },
    checkpoint: 'epoch-0001.ckpt',
    step: 4,
    best: { epoch: 1, metrics, checkpoint: 'epoch-0001.ckpt' }
  })
  repo.commitResult(id, { testMetrics: metrics, galleryImageIds: [], queries: [] })
  return id
}

/** Runs the real `hist` entry point in-process and captures its output. */
async function hist(args: string[]): Promise<{ code: number; err: string }> {
  const { main } = await import('../cli')
  let err = ''
  const o = vi.spyOn(process.stdout, 'write').mockImplementation(() => true)
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => {
    err += String(c)
    return true
  })
  try {
    return { code: await main(['node', 'hist', '--data-dir', dataDir, ...args]), err }
  } finally {
    o.mockRestore()
    e.mockRestore()
  }
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hist-bundle-'))
  dataDir = join(dir, 'data')
  ctx = createContext(dataDir, 'cli')
  repo = new RunsRepo(ctx.db)
})
afterAll(() => {
  closeContext(ctx)
  rmSync(dir, { recursive: true, force: true })
})

describe('run bundles verify their checkpoint', () => {
  it('imports an intact bundle, and refuses one whose model.ckpt was truncated', async () => {
    const id = finishedRun()
    const bundle = exportRunBundle(ctx, repo, id, join(dir, 'out'))
    const ok = importRunBundle(ctx, bundle)
    expect(repo.get(ok.id).status).toBe('completed')
    expect(existsSync(join(ctx.paths.runs, String(ok.id), 'model.ckpt'))).toBe(true)

    const ckpt = join(bundle, 'model.ckpt')
    truncateSync(ckpt, statSync(ckpt).size - 40)
    const before = repo.list().length
    expect(() => importRunBundle(ctx, bundle)).toThrow(CheckpointError)
    expect(() => importRunBundle(ctx, bundle)).toThrow(/model\.ckpt is truncated/)
    expect(repo.list()).toHaveLength(before) // nothing stored
    expect(readdirSync(ctx.paths.runs).filter((n) => n.startsWith('.import-'))).toEqual([])

    const cli = await hist(['import-run', bundle])
    expect(cli.code).not.toBe(0)
    expect(cli.err.trim().split('\n')).toHaveLength(1)
    expect(cli.err).toMatch(/^hist: checkpoint .*model\.ckpt is truncated/)
    expect(repo.list()).toHaveLength(before)
  })

  it('refuses to export a run whose checkpoint is damaged', async () => {
    const id = finishedRun()
    const st = repo.resumeState(id)
    truncateSync(join(st.dir!, st.bestCheckpoint!), 30)
    expect(() => exportRunBundle(ctx, repo, id, join(dir, 'out2'))).toThrow(CheckpointError)
    const cli = await hist(['export', '--run', String(id), '--out', join(dir, 'out3')])
    expect(cli.code).not.toBe(0)
    expect(cli.err).toMatch(/epoch-0001\.ckpt is (truncated|damaged)/)
    const model = await hist([
      'export',
      '--run',
      String(id),
      '--out',
      join(dir, 'out4'),
      '--format',
      'tfjs'
    ])
    expect(model.code).not.toBe(0)
    expect(model.err.trim().split('\n')).toHaveLength(1)
    expect(model.err).toMatch(/epoch-0001\.ckpt is (truncated|damaged)/)
    const bad = await hist([
      'export',
      '--run',
      String(id),
      '--out',
      join(dir, 'out5'),
      '--format',
      'onnx'
    ])
    expect(bad.code).toBe(2)
    expect(bad.err).toMatch(/--format must be bundle or tfjs, got 'onnx'/)
  })
})
