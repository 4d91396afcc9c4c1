/**
 * The fault suite: real trainer and owner processes on a small real dataset, killed or
 * damaged at the worst moments. Each case ends with `PRAGMA integrity_check` = ok and the
 * epochs finished before the fault intact (same records), and the run completed.
 *   - the trainer killed mid-epoch, resumed by its owner;
 *   - the owner (`hist train`) killed mid-epoch, the next `hist train` resumes it first and
 *     says so, and `hist runs` marks it interrupted meanwhile;
 *   - the last checkpoint damaged: the run falls back to the previous verified one;
 *   - a failed run retried from its last good checkpoint (`runs.retry`, `hist resume`);
 *   - `hist import` killed mid-import, then imported again.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, truncateSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AppEvent } from '../../src-preload/contract/events'
import type { EpochRecord } from '../../src-preload/contract/runs'
import { closeContext, createContext, type AppContext } from '../app/context'
import { importDataset } from '../datasets/importer'
import { createRunsService, type RunsServiceImpl } from '../services/runs'
import { atEdge, type AtEdge } from '../services/services.testutil'
import { pidAlive } from '../runs/queue'
import { makeSmallDataset, REPO_ROOT, smallConfig, spawnHist } from '../runs/smallRuns.testutil'

let dir: string
let dataDir: string
let ctx: AppContext
let datasetId: number

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hist-faults-'))
  dataDir = join(dir, 'data')
  makeSmallDataset(join(dir, 'omni'))
  ctx = createContext(dataDir, 'cli')
  datasetId = (await importDataset(ctx, { path: join(dir, 'omni'), format: 'folder' })).dataset.id
})
afterAll(() => {
  closeContext(ctx)
  rmSync(dir, { recursive: true, force: true })
})

const service = (): AtEdge<'runs', RunsServiceImpl> =>
  atEdge('runs', createRunsService(ctx, { graceMs: 30_000 }))

function nextEvent(pred: (e: AppEvent) => boolean): Promise<AppEvent> {
  return new Promise((res) => {
    const off = ctx.events.on((e) => {
      if (pred(e)) {
        off()
        res(e)
      }
    })
  })
}

const epochDone = (id: number, epoch: number) => (e: AppEvent) =>
  e.type === 'run.epoch' && e.runId === id && e.record.epoch === epoch

/** Simulates the next app start: the run's owner is a process that no longer exists. */
function forgetOwner(id: number): void {
  ctx.db.prepare('UPDATE runs SET owner_pid = ? WHERE id = ?').run(2 ** 22 + 4321, id)
}

/** The database is sound, the run completed with epochs 1..n, and `kept` are unchanged. */
function expectIntact(s: RunsServiceImpl, id: number, epochs: number, kept: EpochRecord[]): void {
  expect(ctx.db.pragma('integrity_check', { simple: true })).toBe('ok')
  const d = s.repo.detail(id)
  expect(d.status, d.message ?? '').toBe('completed')
  expect(d.epochs.map((e) => e.epoch)).toEqual(Array.from({ length: epochs }, (_, i) => i + 1))
  expect(d.steps.map((x) => x.step)).toEqual(Array.from({ length: d.steps.length }, (_, i) => i))
  for (const k of kept) expect(d.epochs[k.epoch - 1]).toEqual(k)
  expect(d.testMetrics?.recall['1']).toBeGreaterThan(0)
}

describe('fault suite', () => {
  it('trainer killed mid-epoch: the owner resumes it from the last checkpoint', async () => {
    const s = service()
    try {
      const run = await s.start(smallConfig(datasetId))
      await nextEvent(epochDone(run.id, 2))
      await nextEvent(
        (e) => e.type === 'run.steps' && e.runId === run.id && e.steps.some((x) => x.epoch === 3)
      )
      const kept = s.repo.epochs(run.id).slice(0, 2)
      const restarted = nextEvent(
        (e) => e.type === 'run.log' && e.runId === run.id && /was killed/.test(e.entry.message)
      )
      process.kill(s.trainerPid()!, 'SIGKILL')
      await restarted
      expect(await s.waitFor(run.id)).toBe('completed')
      expectIntact(s, run.id, 4, kept)
    } finally {
      await s.shutdown()
    }
  })

  it('last checkpoint damaged: the run falls back to the previous verified one', async () => {
    const s1 = service()
    const run = await s1.start(smallConfig(datasetId))
    await nextEvent(epochDone(run.id, 2))
    await s1.shutdown() // the owner goes away mid-run; its trainer with it
    const st = s1.repo.resumeState(run.id)
    expect(st.prevCheckpoint).not.toBeNull()
    expect(st.prevCheckpoint).not.toBe(st.checkpoint)
    // The last checkpoint loses its tail (a kill mid-write, a disk error).
    truncateSync(join(st.dir!, st.checkpoint!), 100)
    const prevEpochs = Number(/epoch-(\d+)/.exec(st.prevCheckpoint!)![1])
    const kept = s1.repo.epochs(run.id).slice(0, prevEpochs)
    forgetOwner(run.id)
    const s2 = service()
    try {
      expect(await s2.waitFor(run.id)).toBe('completed')
      expectIntact(s2, run.id, 4, kept)
      const warn = s2.repo.detail(run.id).log.find((l) => /falling back/.test(l.message))
      expect(warn?.level).toBe('warn')
      expect(warn?.message).toContain(st.checkpoint!)
      expect(warn?.message).toMatch(/truncated/)
      expect(warn?.message).toContain(`falling back to ${st.prevCheckpoint}`)
    } finally {
      await s2.shutdown()
    }
  })

  it('a failed run is retried from its last good checkpoint (hist resume → runs.retry); others answer conflict', async () => {
    const s1 = service()
    const run = await s1.start(smallConfig(datasetId))
    await nextEvent(epochDone(run.id, 2))
    await s1.shutdown()
    const st = s1.repo.resumeState(run.id)
    const kept = s1.repo.epochs(run.id).slice(0, st.epochsDone)
    s1.repo.markFinished(run.id, 'failed', 'disk full (simulated)')
    // Another process retries it, as a user would.
    const r = await spawnHist(dataDir, ['resume', '--run', String(run.id)])
    expect(r.code, r.err).toBe(0)
    expect(r.err).toContain(
      `Retrying the failed run from checkpoint ${st.checkpoint} (epoch ${st.epochsDone}).`
    )
    const s2 = createRunsService(ctx, { noRecover: true })
    expectIntact(s2, run.id, 4, kept)
    await expect(s2.retry({ id: run.id })).rejects.toMatchObject({ code: 'conflict' })
    await expect(s2.resume({ id: run.id })).rejects.toMatchObject({ code: 'conflict' })
    const again = await spawnHist(dataDir, ['resume', '--run', String(run.id)])
    expect(again.code).toBe(2)
    expect(again.err).toMatch(/only a paused, failed or interrupted run can be resumed/)
  })

  it('owner (hist train) killed mid-epoch: hist runs says interrupted, the next hist train resumes it first', async () => {
    const args = ['train', '--dataset', String(datasetId), '--backbone', 'small-cnn', '--frozen']
    let ownerPid = 0
    const first = await spawnHist(
      dataDir,
      [...args, '--epochs', '3', '--batch-size', '16'],
      (text, kill, pid) => {
        ownerPid = pid
        if (/epoch 1:/.test(text)) kill('SIGKILL')
      }
    )
    expect(first.signal).toBe('SIGKILL')
    const id = Number(/Run #(\d+) queued/.exec(first.err)![1])
    expect(pidAlive(ownerPid)).toBe(false)
    const kept = createRunsService(ctx, { noRecover: true }).repo.epochs(id).slice(0, 1)
    expect(kept.map((e) => e.epoch)).toEqual([1])

    const listed = await spawnHist(dataDir, ['runs'])
    expect(listed.code).toBe(0)
    expect(listed.out).toMatch(new RegExp(`#${id}\\s+running\\*`))
    expect(listed.out).toMatch(
      new RegExp(`run #${id} is interrupted: the process that ran it \\(pid ${ownerPid}\\) is gone`)
    )

    const next = await spawnHist(dataDir, [...args, '--epochs', '1'])
    expect(next.code, next.err).toBe(0)
    expect(next.err).toMatch(
      new RegExp(`Resuming interrupted run #${id} .* first, from its checkpoint after epoch [12]`)
    )
    const s = createRunsService(ctx, { noRecover: true })
    expectIntact(s, id, 3, kept)
  })

  it('hist import killed mid-import, then imported again: nothing half-stored', async () => {
    const root = join(dir, 'omni-import')
    makeSmallDataset(root)
    const before = ctx.db.prepare('SELECT count(*) AS n FROM datasets').get() as { n: number }
    // A real process importing with progress on stdout; SIGKILL half-way through the images.
    const script = `import { createContext, closeContext } from './src-main/app/context.ts'
import { importDataset } from './src-main/datasets/importer.ts'
const ctx = createContext(${JSON.stringify(dataDir)}, 'cli')
await importDataset(ctx, { path: ${JSON.stringify(root)}, format: 'folder' }, {
  onProgress: (d, t) => process.stdout.write(d + '/' + t + '\\n')
})
closeContext(ctx)
process.stdout.write('finished\\n')`
    const killed = await new Promise<{ signal: NodeJS.Signals | null; out: string }>((resolve) => {
      const cp = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        cwd: REPO_ROOT,
        stdio: ['ignore', 'pipe', 'inherit']
      })
      let out = ''
      cp.stdout.on('data', (c) => {
        out += String(c)
        const m = /(\d+)\/(\d+)\n$/.exec(out)
        if (m && Number(m[2]) > 0 && Number(m[1]) >= Number(m[2]) / 2) cp.kill('SIGKILL')
      })
      cp.on('exit', (_code, signal) => resolve({ signal, out }))
    })
    expect(killed.signal).toBe('SIGKILL')
    expect(killed.out).not.toMatch(/finished/)
    expect(ctx.db.pragma('integrity_check', { simple: true })).toBe('ok')
    const after = ctx.db.prepare('SELECT count(*) AS n FROM datasets').get() as { n: number }
    expect(after.n).toBe(before.n)

    const again = await importDataset(ctx, { path: root, format: 'folder' })
    expect(again.dataset.imageCount).toBe(320)
    expect(ctx.db.pragma('integrity_check', { simple: true })).toBe('ok')
    const rows = ctx.db.prepare('SELECT count(*) AS n FROM datasets WHERE root = ?').get(root) as {
      n: number
    }
    expect(rows.n).toBe(1)
  })
})
