/** Retrieval browser: a query from the test split with ✓/✗ marks, then an external image. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, test } from './fixtures'
import {
  importFolder,
  makeImageFolder,
  makePng,
  quickConfig,
  screenshotBoth,
  trainRun
} from './uiHelpers'

test('queries a test image with ✓/✗ marks and an external image', async ({
  appPage: page,
  server
}) => {
  test.setTimeout(360_000)
  const dir = mkdtempSync(join(tmpdir(), 'hist-e2e-retrieval-'))
  try {
    await makeImageFolder(dir, ['red', 'green', 'blue', 'yellow'], 6)
    const datasetId = await importFolder(page, server, dir, 'colours')
    const run = await trainRun(page, server, quickConfig(datasetId, { name: 'quick HIST' }))

    await page.getByRole('link', { name: 'Retrieval', exact: true }).click()
    await expect(page.getByLabel('Run', { exact: true })).toHaveValue(String(run.id))
    const queries = page.locator('[data-query-item]')
    await expect(queries.first()).toBeVisible()
    await queries.first().click()
    await expect(page).toHaveURL(new RegExp(`run=${run.id}&query=\\d+`))

    const results = page.getByTestId('results').locator('[data-result]')
    await expect(results.first()).toBeVisible()
    // Every result is marked against the query's class, in colour and in words.
    const n = await results.count()
    expect(n).toBeGreaterThan(0)
    for (let i = 0; i < n; i++)
      await expect(results.nth(i)).toHaveAttribute(
        'aria-label',
        /correct: same class|wrong: other class/
      )
    await expect(page.getByTestId('query-ap')).toContainText('AP')
    await screenshotBoth(page, 'retrieval-query')

    // Arrow keys move through the results; Enter opens the viewer; Esc closes it.
    await results.first().focus()
    await page.keyboard.press('ArrowRight')
    await expect(results.nth(1)).toBeFocused()
    await page.keyboard.press('Enter')
    const viewer = page.getByRole('dialog', { name: /^#2/ })
    await expect(viewer).toBeVisible()
    await screenshotBoth(page, 'retrieval-viewer')
    await page.keyboard.press('Escape')
    await expect(viewer).toBeHidden()

    // The deep link reopens the same query.
    const url = page.url()
    await page.goto(url)
    await expect(results.first()).toBeVisible()

    // Worst queries: clicking one queries it.
    await page.getByRole('tab', { name: 'Worst queries' }).click()
    await queries.first().click()
    await expect(results.first()).toBeVisible()

    // An external image chosen from disk.
    const file = join(dir, 'outside.png')
    writeFileSync(file, await makePng(0, 99))
    await page.getByTestId('external-file').setInputFiles(file)
    await expect(page.getByTestId('query-label')).toHaveText('Your image')
    await expect(results.first()).toBeVisible()
    await expect(page.getByText('An outside image has no class')).toBeVisible()
    await screenshotBoth(page, 'retrieval-external')

    // A chosen file that is not a readable image: the error does not say "dropped", and the
    // query shows a placeholder instead of a broken-image icon.
    const bad = join(dir, 'broken.png')
    writeFileSync(bad, (await makePng(1, 5)).subarray(0, 40))
    await page.getByTestId('external-file').setInputFiles(bad)
    await expect(page.getByTestId('query-no-preview')).toBeVisible()
    const err = page.getByRole('alert').filter({ hasText: /image/ })
    await expect(err.first()).toBeVisible()
    await expect(err.first()).not.toContainText('dropped image')
    await screenshotBoth(page, 'retrieval-external-broken')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
