/**
 * Fills a database with many synthetic runs (deterministic), for the runs-list test and bench.
 * Run i: status cycles over STATUSES, dataset over DATASETS, loss over LOSSES, lr = (i % 10 + 1)e-4,
 * batchSize 16 + (i % 4) * 16, R@1 = i / n (completed runs only), duration i seconds, tag
 * 'even'/'odd' plus 'ten' for i % 10 = 0.
 */
import { TrainConfig, type LossName, type RunStatus } from '../../src-preload/contract/runs'
import type { Db } from '../db'
import { RunsRepo } from './repo'

export const STATUSES: RunStatus[] = ['completed', 'failed', 'completed', 'cancelled', 'completed']
export const DATASETS = ['cub', 'cars', 'sop']
export const LOSSES: LossName[] = ['hist', 'proxy-anchor', 'triplet', 'multi-similarity']

export function insertManyRuns(db: Db, n: number): RunsRepo {
  const repo = new RunsRepo(db)
  const t0 = Date.parse('2026-01-01T00:00:00Z')
  const finish = db.prepare(
    `UPDATE runs SET status = @status, started_at = @start, finished_at = @end,
     test_metrics = @metrics, tags = @tags WHERE id = @id`
  )
  db.transaction(() => {
    for (let i = 0; i < n; i++) {
      const config = TrainConfig.parse({
        datasetId: 1,
        loss: LOSSES[i % LOSSES.length],
        lr: ((i % 10) + 1) * 1e-4,
        batchSize: 16 + (i % 4) * 16,
        backbone: i % 2 ? { kind: 'mobilenetv2' } : { kind: 'small-cnn' }
      })
      const id = repo.create({
        name: `run ${i}`,
        datasetId: null,
        datasetName: DATASETS[i % DATASETS.length],
        config,
        appVersion: 'test'
      })
      const status = STATUSES[i % STATUSES.length]
      const metrics =
        status === 'completed'
          ? JSON.stringify({ recall: { '1': i / n }, rPrecision: 0, mapAtR: (n - i) / n })
          : null
      const tags = ['' + (i % 2 ? 'odd' : 'even'), ...(i % 10 === 0 ? ['ten'] : [])]
      finish.run({
        id,
        status,
        start: new Date(t0).toISOString(),
        end: new Date(t0 + i * 1000).toISOString(),
        metrics,
        tags: JSON.stringify(tags)
      })
    }
  })()
  return repo
}
