/**
 * The run's Audit tab: a dataset with a planted label mistake (a red image filed under blue) and
 * a near copy of a training image among the test images; the tab lists the mistake with its
 * neighbours and the copy as a train/test leak, and "open in dataset" shows the image there.
 */
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import sharp from 'sharp'
import { expect, test } from './fixtures'
import {
  api,
  importFolder,
  makeImageFolder,
  makePng,
  quickConfig,
  screenshotBoth,
  trainRun
} from './uiHelpers'

test('the Audit tab lists a planted label mistake and a train/test near copy', async ({
  appPage: page,
  server
}) => {
  test.setTimeout(360_000)
  const dir = mkdtempSync(join(tmpdir(), 'hist-e2e-audit-'))
  try {
    // Colours 0-3: A__red and A__green train, B__blue and B__yellow test.
    await makeImageFolder(dir, ['A__red', 'A__green', 'B__blue', 'B__yellow'], 8)
    renameSync(join(dir, 'A__red', '7.png'), join(dir, 'B__blue', 'filed-wrong.png'))
    // A training image with one pixel changed: not byte-identical, so the import keeps it.
    const { data, info } = await sharp(await makePng(1, 3))
      .raw()
      .toBuffer({ resolveWithObject: true })
    data[0] ^= 0x10
    const near = await sharp(data, { raw: { width: info.width, height: info.height, channels: 3 } })
      .png()
      .toBuffer()
    writeFileSync(join(dir, 'B__yellow', 'near-copy.png'), near)
    const datasetId = await importFolder(page, server, dir, 'audit colours')
    const run = await trainRun(
      page,
      server,
      quickConfig(datasetId, {
        name: 'audited',
        backbone: { kind: 'small-cnn', inputSize: 32 },
        split: { kind: 'group', train: ['A'], test: ['B'] }
      })
    )

    await page.goto(`${server.origin}/#/runs/${run.id}?tab=audit`)
    await expect(page.getByRole('tab', { name: 'Audit' })).toHaveAttribute('aria-selected', 'true')
    const first = page.getByTestId('mislabel').first()
    await expect(first).toBeVisible({ timeout: 60_000 })
    await expect(page.getByTestId('audit-summary')).toContainText('33 images')
    const planted = page.getByTestId('mislabel').filter({ hasText: 'filed-wrong.png' })
    await expect(planted).toHaveCount(1)
    await expect(planted.getByTestId('mislabel-dominant')).toHaveText('A__red')
    await expect(planted.getByRole('img')).not.toHaveCount(0)
    const leak = page.getByTestId('duplicate').filter({ has: page.getByTestId('leak') })
    await expect(leak.first()).toBeVisible()
    await expect(leak.first().getByRole('img', { name: /near-copy\.png/ })).toBeVisible()
    await expect(leak.first().getByRole('img', { name: 'A__green: A__green/3.png' })).toBeVisible()
    await screenshotBoth(page, 'run-audit')

    // At threshold 1 (within float roundoff) only the near copy is left.
    await page.getByLabel('Duplicate threshold').fill('1')
    await page.getByRole('button', { name: 'Audit again' }).click()
    await expect(page.getByTestId('duplicate-total')).toContainText(/^\s*1 pair with similarity ≥ 1/)
    await expect(page.getByTestId('duplicate')).toHaveCount(1)
    await expect(page.getByTestId('leak-total')).toHaveText('1 across train/test')

    // "Open in dataset": the dataset's Images tab with the image open in the viewer.
    await planted.getByRole('link', { name: 'Open B__blue/filed-wrong.png in the dataset' }).click()
    await expect(page).toHaveURL(
      new RegExp(`#/datasets/${datasetId}\\?tab=images&class=\\d+&image=\\d+`)
    )
    await expect(page.getByRole('dialog')).toContainText('B__blue/filed-wrong.png')

    // Bad input over HTTP: 400 with the field, 404 for an unknown run.
    const bad = await page.request.post(`${server.origin}/api/audit.report`, {
      headers: { 'x-hist-token': server.token },
      data: { runId: run.id, k: 0 }
    })
    expect(bad.status()).toBe(400)
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/k: /)
    const none = await page.request.post(`${server.origin}/api/audit.report`, {
      headers: { 'x-hist-token': server.token },
      data: { runId: 9999 }
    })
    expect(none.status()).toBe(404)
    expect(await api(page, server, 'audit.report', { runId: run.id, threshold: 1 })).toBeTruthy()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
