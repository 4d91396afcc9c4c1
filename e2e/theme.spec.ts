/** The in-app theme toggle: overrides the OS preference and is remembered after a reload. */
import { expect, screenshot, test } from './fixtures'

test('the theme toggle overrides the OS preference and persists', async ({ appPage: page }) => {
  const html = page.locator('html')
  await page.emulateMedia({ colorScheme: 'light' })
  await expect(html).toHaveAttribute('data-theme', 'light')
  // "System" follows the OS.
  await page.emulateMedia({ colorScheme: 'dark' })
  await expect(html).toHaveAttribute('data-theme', 'dark')

  await page.emulateMedia({ colorScheme: 'light' })
  await page.getByTestId('theme-select').selectOption('dark')
  await expect(html).toHaveAttribute('data-theme', 'dark')
  await page.reload()
  await expect(page.getByTestId('theme-select')).toHaveValue('dark')
  await expect(html).toHaveAttribute('data-theme', 'dark')
  await screenshot(page, 'theme-dark-on-light-os')

  await page.getByTestId('theme-select').selectOption('light')
  await page.emulateMedia({ colorScheme: 'dark' })
  await expect(html).toHaveAttribute('data-theme', 'light')
  await page.getByTestId('theme-select').selectOption('system')
  await expect(html).toHaveAttribute('data-theme', 'dark')
})
