/**
 * Experiments from the UI on a tiny dataset (frozen MobileNetV2 head, one epoch per run): a
 * small τ sweep with its sensitivity plot, the ablation set with its bar chart, the results
 * table, and the heat-map toggle in the retrieval browser.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, test } from './fixtures'
import { importFolder, makeImageFolder, quickConfig, screenshotBoth, trainRun } from './uiHelpers'

test('a sweep and an ablation set from the UI, then the heat-map overlay', async ({
  appPage: page,
  server
}) => {
  test.setTimeout(1_200_000)
  const dir = mkdtempSync(join(tmpdir(), 'hist-e2e-experiments-'))
  try {
    await makeImageFolder(dir, ['red', 'green', 'blue', 'yellow', 'cyan', 'magenta'], 6)
    const datasetId = await importFolder(page, server, dir, 'colours')
    // The base config of both experiments: a quick run's whole config (frozen head, tiny sizes).
    const base = await trainRun(page, server, quickConfig(datasetId, { epochs: 1, name: 'base' }))

    await page.getByRole('link', { name: 'Experiments', exact: true }).click()
    await page.getByTestId('new-sweep').click()
    await page.getByTestId('exp-from').selectOption(String(base.id))
    await page.getByTestId('exp-epochs').fill('1')
    await expect(page.getByTestId('exp-frozen')).toBeChecked() // frozen mode by default
    await page.getByTestId('exp-param').selectOption('tau')
    await page.getByTestId('exp-values').fill('4:x')
    await expect(page.getByText(/a range is start:stop:step/)).toBeVisible()
    await page.getByTestId('exp-values').fill('8:32:x4')
    await expect(page.getByTestId('exp-submit')).toHaveText('Queue 2 runs')
    await page.getByTestId('exp-submit').click()
    await expect(page).toHaveURL(/#\/experiments\/\d+$/)
    await expect(page.getByTestId('exp-status')).toHaveText('completed', { timeout: 480_000 })
    const sweepChart = page.getByTestId('exp-chart')
    await expect(sweepChart).toBeVisible()
    // Two values × (R@1, MAP@R) drawn.
    await expect(sweepChart).toHaveAttribute('data-points', '4')
    await expect(page.getByTestId('exp-points')).toContainText('tau=32')
    await screenshotBoth(page, 'experiments-sweep')

    await page.getByRole('link', { name: 'Experiments', exact: true }).click()
    await page.getByTestId('new-ablation').click()
    await page.getByTestId('exp-from').selectOption(String(base.id))
    await page.getByTestId('exp-epochs').fill('1')
    await expect(page.getByTestId('exp-submit')).toHaveText('Queue 7 runs')
    await page.getByTestId('exp-submit').click()
    await expect(page).toHaveURL(/#\/experiments\/\d+$/)
    await expect(page.getByTestId('exp-status')).toHaveText('completed', {
      timeout: 900_000
    })
    const bars = page.getByTestId('exp-chart')
    await expect(bars).toBeVisible()
    // Seven variants × (R@1, MAP@R).
    await expect(bars).toHaveAttribute('data-points', '14')
    await expect(page.getByTestId('exp-points')).toContainText('hypergraph CE only')
    await expect(page.getByRole('link', { name: 'Open in Compare' })).toHaveAttribute(
      'href',
      /compare\?runs=\d+(%2C|,)\d+/
    )
    await screenshotBoth(page, 'experiments-ablation')

    // The results table: one row per method, exportable.
    await page.getByRole('link', { name: 'Experiments', exact: true }).click()
    await page.getByTestId('results-dataset').selectOption(String(datasetId))
    await expect(page.getByTestId('results-table')).toContainText('Normalized Softmax')
    await page.getByTestId('results-format').selectOption('latex')
    await expect(page.getByLabel('Exported table')).toHaveValue(/\\begin\{tabular\}/)

    // Where the model looks: the toggle overlays maps on the query and a result.
    await page.goto(`${server.origin}/#/retrieval?run=${base.id}`)
    const queries = page.locator('[data-query-item]')
    await queries.first().click()
    await expect(page.getByTestId('results').locator('[data-result]').first()).toBeVisible()
    await page.getByTestId('heatmap-toggle').check()
    await expect(page.getByTestId('heatmap-sim')).toBeVisible({ timeout: 120_000 })
    await expect(page.getByTestId('heatmap-query').getByTestId('heatmap-canvas')).toHaveAttribute(
      'data-has-map',
      'true'
    )
    await expect(page.getByTestId('heatmap-result').getByTestId('heatmap-canvas')).toHaveAttribute(
      'data-has-map',
      'true'
    )
    await screenshotBoth(page, 'retrieval-heatmap')
    await page.getByTestId('heatmap-pick').selectOption('-1')
    await expect(page.getByTestId('heatmap-result')).toBeHidden()
    await expect(page.getByTestId('heatmap-query').getByTestId('heatmap-canvas')).toHaveAttribute(
      'data-has-map',
      'true',
      { timeout: 60_000 }
    )
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
