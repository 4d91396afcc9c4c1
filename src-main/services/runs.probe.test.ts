/** runs.probe says so when a config gives no full batch per epoch (it used to answer 0 silently). */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { closeContext, createContext, type AppContext } from '../app/context'
import { importDataset } from '../datasets/importer'
import { makeSmallDataset, smallConfig } from '../runs/smallRuns.testutil'
import { createRunsService } from './runs'
import { atEdge } from './services.testutil'

let dir: string
let ctx: AppContext
let datasetId: number

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hist-probe-'))
  makeSmallDataset(join(dir, 'omni'))
  ctx = createContext(join(dir, 'data'), 'cli')
  datasetId = (await importDataset(ctx, { path: join(dir, 'omni'), format: 'folder' })).dataset.id
})
afterAll(() => {
  closeContext(ctx)
  rmSync(dir, { recursive: true, force: true })
})

describe('runs.probe', () => {
  it('warns when an epoch has no full batch', async () => {
    const s = atEdge('runs', createRunsService(ctx, { noRecover: true }))
    try {
      // 8 Greek classes of 20 images; 2 go to validation: 120 training images < 128.
      const p = await s.probe(smallConfig(datasetId, { batchSize: 128, modelSelection: 'val' }))
      expect(p.batchesPerEpoch).toBe(0)
      expect(p.warnings.join(' ')).toMatch(
        /No full batch per epoch: the training split has 120 images .*fewer than one batch of 128/
      )
    } finally {
      await s.shutdown()
    }
  })
})
