/**
 * The runs table's toolbar as a new user meets it: the column chooser opens over the table
 * (the table stays put), an unknown filter key is named, and an empty result offers a way back.
 */
import { join } from 'node:path'
import { expect, test } from './fixtures'
import { openDb } from '../src-main/db'
import { insertManyRuns } from '../src-main/runs/manyRuns.testutil'

test('column chooser, unknown filter keys and the no-match state', async ({
  appPage: page,
  server
}) => {
  const db = openDb(join(server.dataDir, 'hist.sqlite'))
  insertManyRuns(db, 5)
  db.close()

  await page.getByRole('link', { name: 'Runs', exact: true }).click()
  const rows = page.getByTestId('run-row')
  await expect(rows).toHaveCount(5)
  const table = page.locator('table.data')
  const before = (await table.boundingBox())!

  // The chooser opens over the table without pushing it down; a click outside closes it.
  await page.getByText('Columns', { exact: true }).click()
  const menu = page.getByRole('group', { name: 'Columns shown' })
  await expect(menu).toBeVisible()
  expect((await table.boundingBox())!.y).toBe(before.y)
  await menu.getByRole('checkbox', { name: 'Seed' }).check()
  await expect(page.getByRole('columnheader', { name: 'Seed' })).toBeVisible()
  await page.getByRole('heading', { name: 'Runs' }).click()
  await expect(menu).toBeHidden()
  await page.getByText('Columns', { exact: true }).click()
  await expect(menu).toBeVisible()
  await page.keyboard.press('Escape')
  await expect(menu).toBeHidden()

  // An unknown key is named in words, not as the server's payload error.
  const filter = page.getByRole('textbox', { name: 'Filter runs' })
  await filter.fill('nonsense=1')
  await filter.press('Enter')
  await expect(page.getByRole('alert')).toHaveText(/^"nonsense" is not a column or setting/)
  await expect(page.getByText(/invalid payload/)).toHaveCount(0)
  // The previous filter's rows are not left standing under the error.
  await expect(rows).toHaveCount(0)
  await expect(page.getByTestId('runs-filter-invalid')).toContainText(
    'No runs are shown until the filter is fixed.'
  )

  // Nothing matches: say so, and offer to clear the filter.
  await filter.fill('tag:nothing-has-this')
  await filter.press('Enter')
  await expect(rows).toHaveCount(0)
  const none = page.getByTestId('runs-no-match')
  await expect(none).toContainText('No runs match the filter.')
  await none.getByRole('button', { name: 'Clear the filter' }).click()
  await expect(rows).toHaveCount(5)
  await expect(filter).toHaveValue('')
})
