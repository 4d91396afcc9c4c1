/**
 * A link to one image of a dataset (the run audit's "open in dataset") opens the viewer, and
 * opens it again when the user comes back to the same link after closing it.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ImagePage } from '../src-preload/contract'
import { expect, test } from './fixtures'
import { api, importFolder, makeImageFolder } from './uiHelpers'

test('the viewer of a linked image reopens on the same link after it was closed', async ({
  appPage: page,
  server
}) => {
  const dir = mkdtempSync(join(tmpdir(), 'hist-e2e-link-'))
  try {
    await makeImageFolder(dir, ['circle', 'square'], 3)
    const datasetId = await importFolder(page, server, dir, 'shapes')
    const { images } = await api<ImagePage>(page, server, 'datasets.images', {
      datasetId,
      search: 'square/1.png'
    })
    const img = images[0]
    const link = `${server.origin}/#/datasets/${datasetId}?tab=images&class=${img.classId}&image=${img.id}`

    await page.goto(link)
    const viewer = page.getByRole('dialog', { name: 'square — square/1.png' })
    await expect(viewer).toBeVisible()
    await page.keyboard.press('Escape')
    await expect(viewer).toBeHidden()
    // Closing keeps the tab and the class, and forgets the image.
    await expect(page).toHaveURL(new RegExp(`\\?tab=images&class=${img.classId}$`))
    await expect(page.getByText('Class: square')).toBeVisible()

    // The same link again (as from the audit): the viewer opens again.
    await page.goto(link)
    await expect(viewer).toBeVisible()
    await viewer.getByRole('button', { name: 'Close viewer (Esc)' }).click()
    await expect(viewer).toBeHidden()
    await page.goto(link)
    await expect(viewer).toBeVisible()

    // An image opened from the grid leaves the route alone when closed.
    await page.keyboard.press('Escape')
    await page.getByRole('button', { name: /^Open square\/0\.png/ }).click()
    const other = page.getByRole('dialog', { name: 'square — square/0.png' })
    await expect(other).toBeVisible()
    await page.keyboard.press('Escape')
    await expect(other).toBeHidden()
    await expect(page).toHaveURL(new RegExp(`\\?tab=images&class=${img.classId}$`))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
