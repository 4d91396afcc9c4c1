/**
 * Compare saved runs: the settings diff, test metrics with bootstrap intervals (no bold inside
 * the noise), reference rows, seed groups queued from Compare, and flipped queries that open
 * both rankings side by side.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, test } from './fixtures'
import {
  api,
  importFolder,
  makeImageFolder,
  quickConfig,
  screenshotBoth,
  trainRun
} from './uiHelpers'
import type { RunDetail } from '../src-preload/contract'

test('compares two runs with a differences-only table, intervals, references, seeds and flipped queries', async ({
  appPage: page,
  server
}) => {
  test.setTimeout(600_000)
  const dir = mkdtempSync(join(tmpdir(), 'hist-e2e-compare-'))
  try {
    await makeImageFolder(dir, ['red', 'green', 'blue', 'yellow'], 6)
    const datasetId = await importFolder(page, server, dir, 'colours')
    const a = await trainRun(page, server, quickConfig(datasetId, { name: 'HIST run' }))
    const b = await trainRun(
      page,
      server,
      quickConfig(datasetId, { name: 'Proxy-Anchor run', loss: 'proxy-anchor', lr: 5e-4 })
    )

    // Pick both runs in the list and compare.
    await page.getByRole('link', { name: 'Runs', exact: true }).click()
    await page.getByRole('checkbox', { name: 'Select HIST run for comparison' }).check()
    await page.getByRole('checkbox', { name: 'Select Proxy-Anchor run for comparison' }).check()
    await page.getByRole('button', { name: /Compare selected/ }).click()
    await expect(page).toHaveURL(new RegExp(`compare\\?runs=${a.id}(%2C|,)${b.id}`))

    const diff = page.getByTestId('config-diff')
    await expect(diff).toBeVisible()
    // Differences only: loss, lr and name differ; the shared batch size is hidden.
    await expect(diff.getByRole('row', { name: /^loss/ })).toBeVisible()
    await expect(diff.getByRole('row', { name: /^lr\b/ })).toBeVisible()
    await expect(diff.getByRole('row', { name: /^batchSize/ })).toHaveCount(0)
    await page.getByLabel('Differences only').uncheck()
    await expect(diff.getByRole('row', { name: /^batchSize/ })).toBeVisible()
    await page.getByLabel('Differences only').check()

    // Test figures are labelled as test, with a 95 % interval each; on 12 test queries the
    // intervals are wide, so neither run's R@1 is bold unless the gap is measurable.
    const table = page.getByTestId('best-metrics')
    await expect(table).toContainText('HIST run')
    await expect(table).toContainText('Proxy-Anchor run')
    await expect(table.getByRole('columnheader', { name: 'Test R@1', exact: true })).toBeVisible()
    await expect(table.getByTestId('ci')).toHaveCount(2)
    await expect(table.getByTestId('ci').first()).toHaveText(/\d+\.\d–\d+\.\d/)
    await expect(page.getByTestId('noise-note')).toContainText('95 % bootstrap interval')
    const cmp = await api<{
      best: { runId: number; ci: { r1: { lo: number; hi: number } } | null }[]
      differences: { metric: string; significant: boolean }[]
    }>(page, server, 'retrieval.compare', { runIds: [a.id, b.id] })
    const r1Gap = cmp.differences.find((d) => d.metric === 'r1')!
    const marks = await table.locator('td[data-mark]').evaluateAll((tds) =>
      tds.map((td) => td.getAttribute('data-mark'))
    )
    if (!r1Gap.significant) {
      expect(marks).not.toContain('top')
      expect(marks.filter((m) => m === 'tie')).toHaveLength(2)
    }
    // Reference rows: the untrained model and the raw backbone features on the same test split.
    const refs = table.getByTestId('reference-row')
    await expect(refs.filter({ hasText: 'Untrained model' }).first()).toBeVisible()
    await expect(refs.filter({ hasText: 'Raw backbone features' }).first()).toBeVisible()

    const flipped = page.getByTestId('flipped')
    await expect(flipped).toBeVisible()
    await expect(flipped).toContainText('Right in A, wrong in B')
    await expect(flipped).toContainText('Right in B, wrong in A')
    await screenshotBoth(page, 'compare')

    // Queue a second seed of the HIST run from Compare; once trained, the two form a seed group.
    await page.getByLabel('Queue seeds of').selectOption(String(a.id))
    await page.getByLabel('Seeds', { exact: true }).fill('5')
    await page.getByRole('button', { name: 'Queue seeds' }).click()
    await expect(page.getByTestId('seeds-queued')).toContainText('Queued #')
    const runs = await api<RunDetail[]>(page, server, 'runs.list')
    const seeded = runs.find((r) => r.name === 'HIST run · seed 5')!
    expect(seeded.config.seed).toBe(5)
    for (let i = 0; i < 600; i++) {
      const d = await api<RunDetail>(page, server, 'runs.get', { id: seeded.id })
      if (d.status === 'completed') break
      expect(['queued', 'running']).toContain(d.status)
      await page.waitForTimeout(500)
    }
    await page.goto(page.url().replace(/runs=[^&]*/, `runs=${a.id},${seeded.id}`))
    const groups = page.getByTestId('seed-groups')
    await expect(groups).toBeVisible()
    await expect(groups).toContainText('±')
    await expect(groups.getByRole('row').nth(1)).toContainText(/1, 5|5, 1/)

    // A flipped query (if any) opens both rankings side by side in Retrieval.
    await page.goto(page.url().replace(/runs=[^&]*/, `runs=${a.id},${b.id}`))
    const thumbs = page.getByTestId('flipped').getByRole('button', { name: /side by side/ })
    if ((await thumbs.count()) > 0) {
      await thumbs.first().click()
      await expect(page).toHaveURL(
        new RegExp(`#/retrieval\\?run=${a.id}&compare=${b.id}&query=\\d+`)
      )
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
