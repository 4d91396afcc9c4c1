/** Compare two saved runs: the settings diff, best metrics and flipped queries. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, test } from './fixtures'
import { importFolder, makeImageFolder, quickConfig, screenshotBoth, trainRun } from './uiHelpers'

test('compares two runs with a differences-only table and flipped queries', async ({
  appPage: page,
  server
}) => {
  test.setTimeout(420_000)
  const dir = mkdtempSync(join(tmpdir(), 'hist-e2e-compare-'))
  try {
    await makeImageFolder(dir, ['red', 'green', 'blue', 'yellow'], 6)
    const datasetId = await importFolder(page, server, dir, 'colours')
    const a = await trainRun(page, server, quickConfig(datasetId, { name: 'HIST run' }))
    const b = await trainRun(
      page,
      server,
      quickConfig(datasetId, { name: 'Proxy-Anchor run', loss: 'proxy-anchor', lr: 5e-4 })
    )

    // Pick both runs in the list and compare.
    await page.getByRole('link', { name: 'Runs', exact: true }).click()
    await page.getByRole('checkbox', { name: 'Select HIST run for comparison' }).check()
    await page.getByRole('checkbox', { name: 'Select Proxy-Anchor run for comparison' }).check()
    await page.getByRole('button', { name: /Compare selected/ }).click()
    await expect(page).toHaveURL(new RegExp(`compare\\?runs=${a.id}(%2C|,)${b.id}`))

    const diff = page.getByTestId('config-diff')
    await expect(diff).toBeVisible()
    // Differences only: loss, lr and name differ; the shared batch size is hidden.
    await expect(diff.getByRole('row', { name: /^loss/ })).toBeVisible()
    await expect(diff.getByRole('row', { name: /^lr\b/ })).toBeVisible()
    await expect(diff.getByRole('row', { name: /^batchSize/ })).toHaveCount(0)
    await page.getByLabel('Differences only').uncheck()
    await expect(diff.getByRole('row', { name: /^batchSize/ })).toBeVisible()
    await page.getByLabel('Differences only').check()

    await expect(page.getByTestId('best-metrics')).toContainText('HIST run')
    await expect(page.getByTestId('best-metrics')).toContainText('Proxy-Anchor run')
    const flipped = page.getByTestId('flipped')
    await expect(flipped).toBeVisible()
    await expect(flipped).toContainText('Right in A, wrong in B')
    await expect(flipped).toContainText('Right in B, wrong in A')
    await screenshotBoth(page, 'compare')

    // A flipped query (if any) opens in the retrieval browser.
    const thumbs = flipped.getByRole('button', { name: /open in retrieval/ })
    if ((await thumbs.count()) > 0) {
      await thumbs.first().click()
      await expect(page).toHaveURL(/#\/retrieval\?run=\d+&image=\d+/)
      await expect(page.getByTestId('results').locator('[data-result]').first()).toBeVisible()
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
