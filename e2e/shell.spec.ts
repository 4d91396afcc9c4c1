/** The app shell in web mode: every section is reachable and the backend status is shown. */
import { expect, screenshot, test } from './fixtures'

/** The sections of the navigation, as the renderer labels its links. */
const SECTIONS = ['Datasets', 'Train', 'Runs', 'Retrieval', 'Compare'] as const

test('opens the shell, visits every section and shows the backend status', async ({
  appPage: page
}) => {
  await expect(page).toHaveTitle(/HIST Studio/)
  for (const name of SECTIONS) {
    const link = page.getByRole('link', { name, exact: true })
    await link.click()
    // vue-router marks the active link; the section's own view is rendered in <main>.
    await expect(link).toHaveAttribute('aria-current', 'page')
    await expect(page.getByRole('main')).toBeVisible()
    await screenshot(page, `shell-${name.toLowerCase()}`)
  }
  const body = page.locator('body')
  await expect(body).toContainText('wasm: in use', { timeout: 30_000 })
  await expect(body).toContainText('tensorflow-gpu: @tensorflow/tfjs-node-gpu not installed')
  // Whether the fast kernels are on: a count in the bar, each path and reason in the tooltip.
  const fast = page.getByTestId('fast-paths')
  await expect(fast).toHaveText(/Fast kernels: [23] of 4 on/)
  await expect(fast).toHaveAttribute('title', /wasm-simd: on/)
})

test('keeps working after a reload (the token is in the session cookie)', async ({
  appPage: page
}) => {
  await page.getByRole('link', { name: 'Datasets', exact: true }).click()
  await page.reload()
  await expect(page.getByRole('link', { name: 'Runs', exact: true })).toBeVisible()
  await expect(page.locator('body')).toContainText('wasm: in use', { timeout: 30_000 })
})

test('refuses a browser without the token', async ({ browser, server }) => {
  // A fresh context has no cookie.
  const context = await browser.newContext()
  const page = await context.newPage()
  const response = await page.goto(`${server.origin}/`)
  expect(response?.status()).toBe(401)
  await expect(page.locator('body')).toContainText('Unauthorized')
  const wrong = await page.goto(`${server.origin}/?token=${'0'.repeat(64)}`)
  expect(wrong?.status()).toBe(401)
  const api = await page.request.post(`${server.origin}/api/system.status`, { data: {} })
  expect(api.status()).toBe(401)
  await context.close()
})
