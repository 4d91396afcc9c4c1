/**
 * Presets in the wizard: Demo then CUB leaves nothing of Demo behind (Model step, Advanced and
 * Review show the CUB recipe), a new dataset starts from its own split, Start over confirms.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, test } from './fixtures'
import { importFolder, makeImageFolder, screenshotBoth } from './uiHelpers'

test('Demo preset → CUB preset: the Model step and Review show the CUB values', async ({
  appPage: page,
  server
}) => {
  test.setTimeout(240_000)
  const dir = mkdtempSync(join(tmpdir(), 'hist-e2e-presets-'))
  try {
    await makeImageFolder(dir, ['red', 'green', 'blue', 'yellow', 'purple', 'cyan'], 4)
    const id = await importFolder(page, server, dir, 'colours')
    await page.goto(`${server.origin}/#/train?dataset=${id}`)
    await expect(page.getByRole('radio', { name: /colours/ })).toBeChecked()
    await page.getByRole('button', { name: 'Next →' }).click()
    await page.getByRole('button', { name: 'Next →' }).click()

    const preset = page.getByLabel('Preset')
    await preset.selectOption('demo')
    // The demo owns its model selection: the best epoch on its small (2-class) validation split.
    await page.getByText('Advanced').click()
    const acceptSmall = page.getByLabel('Accept a small validation split')
    await expect(acceptSmall).toBeChecked()
    await preset.selectOption('cub')
    await expect(preset).toHaveValue('cub')
    await expect(page.getByLabel('Epochs', { exact: true })).toHaveValue('40')
    await expect(acceptSmall).not.toBeChecked()
    await expect(page.getByLabel('Warm-up epochs')).toHaveValue('1')
    await expect(page.getByLabel('HGNN hidden size')).toHaveValue('512')
    await screenshotBoth(page, 'wizard-preset-cub')

    // The Model step shows CUB's model, not Demo's small CNN at 24 px, 128-d.
    await page.getByRole('button', { name: '← Back' }).click()
    await expect(page.getByRole('radio', { name: /MobileNetV2/ })).toBeChecked()
    await expect(page.getByRole('radio', { name: /Small CNN/ })).not.toBeChecked()
    await expect(page.getByLabel('Embedding size')).toHaveValue('512')
    await expect(page.getByRole('radio', { name: /Frozen/ })).toBeChecked()
    await expect(page.getByTestId('model-preset')).toContainText('CUB-200-2011')
    await screenshotBoth(page, 'wizard-preset-model')

    // Review lists every effective setting with the CUB values.
    await page.getByRole('button', { name: 'Next →' }).click()
    await page.getByRole('button', { name: 'Next →' }).click()
    const row = (k: string) => page.getByTestId(`review-${k}`)
    await expect(row('Preset')).toContainText('CUB-200-2011')
    await expect(row('Backbone')).toContainText('MobileNetV2')
    await expect(row('Embedding size')).toContainText('512')
    await expect(row('HGNN hidden size')).toContainText('512')
    await expect(row('Warm-up epochs')).toContainText('1')
    await expect(row('Epochs × batch')).toContainText('40 ×')
    await expect(row('Run name')).toContainText('automatic')
    await expect(row('Validation classes')).toBeVisible()
    await expect(row('Device')).not.toContainText('checking')
    await screenshotBoth(page, 'wizard-review-all')

    // Start over asks first; keeping the settings changes nothing.
    await page.getByRole('button', { name: 'Start over…' }).click()
    const dialog = page.getByRole('dialog', { name: 'Start over?' })
    await expect(dialog).toBeVisible()
    await dialog.getByRole('button', { name: 'Keep my settings' }).click()
    await expect(dialog).toBeHidden()
    await expect(row('Preset')).toContainText('CUB-200-2011')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
