/**
 * The experiments service over real trainer processes (small dataset, frozen small-CNN
 * features): a stored sweep lists its points with their runs' statuses, cancel stops the active
 * run and cancels the queued ones, a removed run leaves its point 'removed', and removing the
 * experiment keeps its runs. Bad requests name the problem and queue nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { closeContext, createContext, type AppContext } from '../app/context'
import { importDataset } from '../datasets/importer'
import { makeSmallDataset, smallConfig } from '../runs/smallRuns.testutil'
import { createExperimentsService, type ExperimentsServiceImpl } from './experiments'
import { createRunsService, type RunsServiceImpl } from './runs'
import { atEdge, type AtEdge } from './services.testutil'

let dir: string
let ctx: AppContext
let runs: RunsServiceImpl
let svc: AtEdge<'experiments', ExperimentsServiceImpl>
let datasetId: number

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hist-experiments-'))
  makeSmallDataset(join(dir, 'ds'))
  ctx = createContext(join(dir, 'data'), 'cli')
  datasetId = (await importDataset(ctx, { path: join(dir, 'ds'), format: 'folder' })).dataset.id
  runs = createRunsService(ctx, { graceMs: 30_000 })
  svc = atEdge('experiments', createExperimentsService(ctx, runs))
}, 120_000)

afterAll(async () => {
  await runs.shutdown()
  closeContext(ctx)
  rmSync(dir, { recursive: true, force: true })
})

describe('experiments service', () => {
  it('refuses a bad request before queueing anything', async () => {
    const before = runs.repo.list().length
    await expect(
      svc.createAblation({ base: smallConfig(999), variants: ['hist'] })
    ).rejects.toThrow(/no dataset with id 999/)
    await expect(svc.get({ id: 999 })).rejects.toThrow(/no experiment with id 999/)
    expect(runs.repo.list()).toHaveLength(before)
    expect(await svc.list()).toEqual([])
  })

  it('cancel stops the active run and cancels the queued ones; a removed run leaves its point removed', async () => {
    const e = await svc.createSweep({
      base: smallConfig(datasetId, { epochs: 50 }),
      axes: [{ param: 'alpha', values: [0.5, 1, 2] }],
      name: 'to cancel'
    })
    expect(e).toMatchObject({ kind: 'sweep', name: 'to cancel', total: 3, done: 0 })
    expect(e.points.map((p) => p.label)).toEqual(['alpha=0.5', 'alpha=1', 'alpha=2'])
    expect(['queued', 'running']).toContain(e.status)
    await svc.cancel({ id: e.id })
    const after = await svc.get({ id: e.id })
    expect(after.status).toBe('cancelled')
    expect(after.points.every((p) => p.status === 'cancelled')).toBe(true)
    expect(after.done).toBe(3)

    await runs.remove({ id: after.points[1].runId! })
    const gone = await svc.get({ id: e.id })
    expect(gone.points[1]).toMatchObject({ status: 'removed', runId: null })

    const listed = await svc.list()
    expect(listed[0]).toMatchObject({ id: e.id, status: 'cancelled', done: 3, total: 3 })
    expect(listed[0]).not.toHaveProperty('points')

    await svc.remove({ id: e.id })
    await expect(svc.get({ id: e.id })).rejects.toThrow(/no experiment/)
    expect(runs.repo.find(after.points[0].runId!)).not.toBeNull() // its runs stay
  }, 300_000)
})
