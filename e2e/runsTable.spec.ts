/**
 * Runs table: 30 synthetic runs written into the server's database (src-main/runs/manyRuns.testutil),
 * then sorting by a header, filtering with key=value and tag:, tagging a run and grouping by tag.
 */
import { join } from 'node:path'
import { expect, test } from './fixtures'
import { openDb } from '../src-main/db'
import { insertManyRuns } from '../src-main/runs/manyRuns.testutil'

test('sorts, filters, tags and groups runs', async ({ appPage: page, server }) => {
  test.setTimeout(180_000)
  const db = openDb(join(server.dataDir, 'hist.sqlite'))
  insertManyRuns(db, 30)
  db.close()

  await page.getByRole('link', { name: 'Runs', exact: true }).click()
  const rows = page.getByTestId('run-row')
  await expect(rows).toHaveCount(30)

  // Sort by R@1, highest first: run 29 is the best completed run (R@1 = i / n; i % 5 = 4 completes).
  const r1 = page.getByRole('button', { name: /^R@1 \(test\)/ })
  await r1.click()
  await r1.click()
  await expect(page.getByRole('columnheader', { name: /R@1 \(test\)/ })).toHaveAttribute(
    'aria-sort',
    'descending'
  )
  await expect(rows.first()).toContainText('run 29')

  // Filter: hist runs (i % 4 = 0) on cub (i % 3 = 0) → runs 0, 12, 24.
  const filter = page.getByRole('textbox', { name: 'Filter runs' })
  await filter.fill('loss=hist dataset=cub')
  await filter.press('Enter')
  await expect(rows).toHaveCount(3)
  await filter.fill('oops')
  await filter.press('Enter')
  await expect(page.getByRole('alert')).toContainText('"oops"')

  // Tag run 12, then filter by that tag.
  await filter.fill('loss=hist dataset=cub')
  await filter.press('Enter')
  await expect(rows).toHaveCount(3)
  const tagInput = page.getByRole('textbox', { name: 'Add a tag to run 12' })
  await tagInput.fill('keeper')
  await tagInput.press('Enter')
  await expect(rows.filter({ hasText: 'run 12' }).getByTestId('run-tag')).toContainText([
    'even',
    'keeper'
  ])
  await filter.fill('tag:keeper')
  await filter.press('Enter')
  await expect(rows).toHaveCount(1)
  await expect(rows.first()).toContainText('run 12')

  // Group by tag: run 12 is under both of its tags.
  await filter.fill('')
  await filter.press('Enter')
  await page.getByRole('combobox', { name: 'Group runs by' }).selectOption('tag')
  await expect(page.getByRole('heading', { name: /^keeper \(1\)/ })).toBeVisible()
  await expect(page.getByRole('heading', { name: /^ten \(3\)/ })).toBeVisible()
})
