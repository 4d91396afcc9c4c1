/**
 * A failed run shows "Retry from last good checkpoint"; clicking it queues the run again
 * (runs.retry), which the run's event log records. The failed run is written straight into the
 * server's database (its dataset is gone, so the retry fails again, which is beside the point).
 */
import Database from 'better-sqlite3'
import { join } from 'node:path'
import { TrainConfig } from '../src-preload/contract/runs'
import { expect, test } from './fixtures'

test('a failed run can be retried from the run view', async ({ appPage: page, server }) => {
  const db = new Database(join(server.dataDir, 'hist.sqlite'))
  let id: number
  try {
    const config = TrainConfig.parse({ datasetId: 1, epochs: 2 })
    id = Number(
      db
        .prepare(
          `INSERT INTO runs (name, status, dataset_id, dataset_name, config, app_version, message)
           VALUES ('broken run', 'failed', NULL, 'gone', ?, 'e2e', 'disk full')`
        )
        .run(JSON.stringify(config)).lastInsertRowid
    )
  } finally {
    db.close()
  }
  await page.goto(`${server.origin}/#/runs/${id}`)
  const retry = page.getByRole('button', { name: 'Retry from last good checkpoint' })
  await expect(retry).toBeVisible({ timeout: 30_000 })
  await retry.click()
  await page
    .getByRole('tab', { name: 'Event log' })
    .or(page.getByRole('button', { name: 'Event log' }))
    .first()
    .click()
  await expect(page.getByText('Retrying the failed run from the start.')).toBeVisible({
    timeout: 30_000
  })
})
