/** Datasets view: import a folder through the UI, see its statistics and problems, browse a class. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, test } from './fixtures'
import { makeImageFolder, screenshotBoth } from './uiHelpers'

test('imports a folder with a corrupt file, shows statistics and problems, opens a class', async ({
  appPage: page
}) => {
  const dir = mkdtempSync(join(tmpdir(), 'hist-e2e-images-'))
  try {
    await makeImageFolder(dir, ['circle', 'square', 'triangle'], 5, 'square/broken.png')

    await page.getByRole('link', { name: 'Datasets', exact: true }).click()
    await expect(page.getByText('No datasets yet')).toBeVisible()
    await screenshotBoth(page, 'datasets-empty')

    await page.getByRole('button', { name: 'Import folder…' }).first().click()
    const dialog = page.getByRole('dialog', { name: 'Import a dataset' })
    await dialog.getByLabel('Folder').fill(dir)
    await dialog.getByLabel('Name (optional)').fill('shapes')
    await screenshotBoth(page, 'datasets-import-dialog')
    await dialog.getByRole('button', { name: 'Import', exact: true }).click()

    // The dialog closes on completion and opens the new dataset.
    await expect(page).toHaveURL(/#\/datasets\/\d+/, { timeout: 60_000 })
    await expect(page.getByRole('heading', { name: 'shapes' })).toBeVisible()
    await expect(page.getByTestId('stat-classes')).toHaveText('3')
    await expect(page.getByTestId('stat-images')).toHaveText('15')
    await expect(page.getByTestId('stat-problems')).toHaveText('1')
    await screenshotBoth(page, 'dataset-overview')

    await page.getByRole('tab', { name: /Problems/ }).click()
    const problems = page.getByTestId('problems')
    await expect(problems).toContainText('broken.png')
    await expect(problems).toContainText('corrupt')
    await screenshotBoth(page, 'dataset-problems')

    // Open one class's thumbnails from the class table.
    await page.getByRole('tab', { name: 'Overview' }).click()
    await page.getByRole('row', { name: /circle/ }).click()
    await expect(page).toHaveURL(/tab=images/)
    await expect(page.getByText('Class: circle')).toBeVisible()
    const tiles = page.getByRole('button', { name: /^Open circle\// })
    await expect(tiles).toHaveCount(5)
    await expect(tiles.first().locator('img')).toHaveJSProperty('complete', true)
    await screenshotBoth(page, 'dataset-class-thumbnails')

    // A large viewer opens on click and Esc closes it.
    await tiles.first().click()
    const viewer = page.getByRole('dialog', { name: /circle/ })
    await expect(viewer).toBeVisible()
    await screenshotBoth(page, 'dataset-image-viewer')
    await page.keyboard.press('Escape')
    await expect(viewer).toBeHidden()

    // Search by file name across classes.
    await page.getByRole('button', { name: 'Show all classes' }).click()
    await page.getByLabel('Search images by class or file name').fill('3.png')
    await expect(page.getByText('3 matches')).toBeVisible()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
