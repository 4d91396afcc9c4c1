/** The training wizard, from the demo dataset to a finished run with live curves. */
import { expect, test } from './fixtures'
import { screenshotBoth } from './uiHelpers'

test('trains on the demo dataset through the wizard and shows curves while it trains', async ({
  appPage: page
}) => {
  test.setTimeout(480_000)

  await page.getByRole('link', { name: 'Datasets', exact: true }).click()
  await page.getByRole('button', { name: 'Add demo dataset' }).first().click()
  await expect(page).toHaveURL(/#\/datasets\/\d+/, { timeout: 120_000 })
  await expect(page.getByTestId('stat-images')).not.toHaveText('0')

  await page.getByRole('link', { name: 'Train', exact: true }).click()
  // Step 1: the only dataset is chosen already; its split is the standard one.
  await expect(page.getByRole('radio', { name: /Fashion-MNIST/ })).toBeChecked()
  await screenshotBoth(page, 'wizard-1-dataset')
  await page.getByRole('button', { name: 'Next →' }).click()

  // Step 2: the default backbone is the offline MobileNetV2.
  await expect(page.getByRole('radio', { name: /MobileNetV2/ })).toBeChecked()
  await page.getByRole('button', { name: 'Next →' }).click()

  // Step 3: the Demo preset, with fewer epochs; an invalid value is explained inline.
  await page.getByLabel('Preset').selectOption('demo')
  const epochs = page.getByLabel('Epochs', { exact: true })
  await epochs.fill('0')
  await expect(page.getByText('Must be a whole number from 1 to 1000.')).toBeVisible()
  await screenshotBoth(page, 'wizard-3-invalid')
  await epochs.fill('1')
  await expect(page.getByText('Must be a whole number from 1 to 1000.')).toBeHidden()
  await screenshotBoth(page, 'wizard-3-hyper')

  // Back to the model: a small CNN trained from scratch is the fastest choice on a CPU for
  // 28-pixel images (frozen MobileNetV2 must first embed 3,000 images at 224 px).
  await page.getByRole('button', { name: '← Back' }).click()
  await page.getByRole('radio', { name: /Small CNN/ }).check()
  await page.getByRole('radio', { name: /Fine-tune/ }).check()
  await page.getByLabel('Embedding size').fill('64')
  await screenshotBoth(page, 'wizard-2-model')
  await page.getByRole('button', { name: 'Next →' }).click()
  // The entries of step 3 were kept.
  await expect(epochs).toHaveValue('1')
  await expect(page.getByLabel('Preset')).toHaveValue('custom')
  await page.getByRole('button', { name: 'Next →' }).click()

  // Step 4: review with the backend and a measured estimate (or the reason it failed).
  await expect(page.getByTestId('review-backend')).toHaveText(/wasm|cpu|tensorflow/)
  await expect(page.getByTestId('estimate').or(page.getByText(/Could not measure/))).toBeVisible({
    timeout: 180_000
  })
  await screenshotBoth(page, 'wizard-4-review')

  await page.getByRole('button', { name: 'Start training' }).click()
  await expect(page).toHaveURL(/#\/runs\/\d+/, { timeout: 30_000 })

  // Curves appear while the run is still going.
  const status = page.getByTestId('run-status').first()
  const chart = page.getByTestId('loss-chart')
  await expect(chart).toBeVisible({ timeout: 300_000 })
  await expect(status).toHaveText(/running/)
  await expect(page.getByTestId('run-progress')).toBeVisible()
  await screenshotBoth(page, 'run-live')

  await expect(status).toHaveText(/completed/, { timeout: 400_000 })
  await expect(page.getByTestId('best-r1')).not.toHaveText('—')
  await screenshotBoth(page, 'run-finished')
  await page.getByRole('tab', { name: 'Metrics' }).click()
  await expect(page.getByTestId('before-after')).toBeVisible()
  await screenshotBoth(page, 'run-metrics')
  await page.getByRole('tab', { name: 'Event log' }).click()
  await expect(page.getByTestId('run-log')).toBeVisible()
  await page.getByRole('tab', { name: 'Embedding map' }).click()
  await expect(page.getByRole('img', { name: 'Embedding map of the test images' })).toBeVisible({
    timeout: 120_000
  })
  await screenshotBoth(page, 'run-map')

  // The run is listed with its result.
  await expect(async () => {
    await page.getByRole('link', { name: 'Runs', exact: true }).click()
    await expect(page).toHaveURL(/#\/runs$/, { timeout: 2_000 })
  }).toPass({ timeout: 20_000 })
  await expect(page.getByRole('row', { name: /completed/ })).toHaveCount(1)
  await screenshotBoth(page, 'runs-list')
})
