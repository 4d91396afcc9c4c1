/**
 * Removing a dataset that runs use: refused with 409 (conflict) while a run is queued, running
 * or paused on it; allowed once every run on it has ended, which leaves those runs with a NULL
 * dataset id, the dataset's name, and all their records.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Services } from '../../src-preload/contract'
import { TrainConfig, type RunStatus } from '../../src-preload/contract/runs'
import { dispatch } from './index'
import { importDataset } from '../datasets/importer'
import { makeFolderDataset, tempContext, tempDir } from '../datasets/datasets.testutil'
import { RunsRepo } from '../runs/repo'
import { createDatasetsService } from '../services/datasets'

let ctx: ReturnType<typeof tempContext>
let services: Services
let repo: RunsRepo
let datasetId: number

beforeEach(async () => {
  ctx = tempContext()
  const root = tempDir()
  await makeFolderDataset(root, ['a', 'b', 'c', 'd'], 2)
  datasetId = (await importDataset(ctx, { path: root, format: 'folder' })).dataset.id
  services = { datasets: createDatasetsService(ctx) } as unknown as Services
  repo = new RunsRepo(ctx.db)
})
afterEach(() => ctx.dispose())

function runWith(status: RunStatus): number {
  const config = TrainConfig.parse({ datasetId, epochs: 2 })
  const id = repo.create({ name: null, datasetId, datasetName: 'tiny', config, appVersion: 't' })
  if (status !== 'queued') repo.setStatus(id, status)
  return id
}

describe('datasets.remove with runs on the dataset', () => {
  for (const status of ['queued', 'running', 'paused'] as const) {
    it(`answers 409 while a run is ${status} on it, and changes nothing`, async () => {
      const id = runWith(status)
      const reply = await dispatch(services, 'datasets.remove', { id: datasetId })
      expect('error' in reply && reply.error.code).toBe('conflict')
      if (!('error' in reply)) return
      expect(reply.error.message).toContain(`#${id} (${status})`)
      expect((await services.datasets.list()).map((d) => d.id)).toEqual([datasetId])
      expect(repo.get(id).datasetId).toBe(datasetId)
    })
  }

  it('removes it once its runs ended; they keep a NULL id and the dataset name', async () => {
    const done = runWith('completed')
    repo.log(done, 'info', 'kept')
    const reply = await dispatch(services, 'datasets.remove', { id: datasetId })
    expect(reply).toEqual({})
    expect(await services.datasets.list()).toEqual([])
    const r = repo.get(done)
    expect(r.datasetId).toBeNull()
    expect(r.datasetName).toBe('tiny')
    expect(repo.detail(done).log.map((l) => l.message)).toContain('kept')
  })
})
