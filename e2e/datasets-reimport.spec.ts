/** Re-importing an unchanged folder says so in the import dialog instead of closing silently. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, test } from './fixtures'
import { makeImageFolder } from './uiHelpers'

test('an unchanged re-import says "Nothing changed"', async ({ appPage: page }) => {
  const dir = mkdtempSync(join(tmpdir(), 'hist-e2e-reimport-'))
  try {
    await makeImageFolder(dir, ['circle', 'square'], 3)
    await page.getByRole('link', { name: 'Datasets', exact: true }).click()
    const importOnce = async (): Promise<void> => {
      await page.getByRole('button', { name: 'Import folder…' }).first().click()
      const dialog = page.getByRole('dialog', { name: 'Import a dataset' })
      await dialog.getByLabel('Folder').fill(dir)
      await dialog.getByLabel('Name (optional)').fill('shapes')
      await dialog.getByRole('button', { name: 'Import', exact: true }).click()
    }
    await importOnce()
    await expect(page).toHaveURL(/#\/datasets\/\d+/, { timeout: 60_000 })
    await page.getByRole('link', { name: 'Datasets', exact: true }).click()
    await importOnce()
    const dialog = page.getByRole('dialog', { name: 'Import a dataset' })
    await expect(dialog.getByRole('status')).toHaveText(
      'Nothing changed: shapes is already up to date (6 images, none added, removed or modified)',
      { timeout: 60_000 }
    )
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
