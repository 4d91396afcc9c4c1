/**
 * Side-by-side rankings of two runs for one query (the route Compare's flipped queries link to),
 * and the query kept when the run changes.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ImageRef } from '../src-preload/contract'
import { expect, test } from './fixtures'
import {
  api,
  importFolder,
  makeImageFolder,
  quickConfig,
  screenshotBoth,
  trainRun
} from './uiHelpers'

test('ranks one query with two runs side by side and keeps the query when the run changes', async ({
  appPage: page,
  server
}) => {
  test.setTimeout(480_000)
  const dir = mkdtempSync(join(tmpdir(), 'hist-e2e-side-'))
  try {
    await makeImageFolder(dir, ['red', 'green', 'blue', 'yellow'], 6)
    const datasetId = await importFolder(page, server, dir, 'colours')
    const a = await trainRun(page, server, quickConfig(datasetId, { name: 'run A', seed: 1 }))
    const b = await trainRun(page, server, quickConfig(datasetId, { name: 'run B', seed: 2 }))
    const page1 = await api<{ images: ImageRef[] }>(page, server, 'retrieval.testImages', {
      runId: a.id,
      offset: 0,
      limit: 5
    })
    const img = page1.images[2]

    await page.goto(`${server.origin}/#/retrieval?run=${a.id}&compare=${b.id}&query=${img.id}`)
    const pair = page.getByTestId('side-by-side')
    await expect(pair).toBeVisible()
    const grids = pair.getByTestId('results')
    await expect(grids).toHaveCount(2)
    await expect(grids.nth(0).locator('[data-result]').first()).toBeVisible()
    await expect(grids.nth(1).locator('[data-result]').first()).toBeVisible()
    await expect(pair.getByRole('heading', { name: /run A/ })).toBeVisible()
    await expect(pair.getByRole('heading', { name: /run B/ })).toBeVisible()
    await expect(page.getByTestId('query-label')).toHaveText(img.className)
    await expect(page.getByLabel('Beside')).toHaveValue(String(b.id))
    await screenshotBoth(page, 'retrieval-side-by-side')

    // Switching the run keeps the query (same dataset, so the same test images).
    await page.getByLabel('Beside').selectOption('')
    await expect(pair).toBeHidden()
    await page.getByLabel('Run', { exact: true }).selectOption(String(b.id))
    await expect(page).toHaveURL(new RegExp(`run=${b.id}&query=${img.id}`))
    await expect(page.getByTestId('query-label')).toHaveText(img.className)
    await expect(page.getByTestId('results').locator('[data-result]').first()).toBeVisible()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
