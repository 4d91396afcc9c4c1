/**
 * Web mode's model download: the run's Export dialog links `/download/model/<id>.zip`, and the
 * browser receives a zip holding a loadable TensorFlow.js model — model.json plus every weight
 * shard its manifest names, with the byte counts the manifest promises.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { unzipSync } from 'fflate'
import { expect, test } from './fixtures'
import { importFolder, makeImageFolder, quickConfig, screenshotBoth, trainRun } from './uiHelpers'

interface ModelJson {
  format?: string
  modelTopology?: unknown
  weightsManifest: {
    paths: string[]
    weights: { name: string; shape: number[]; dtype: string }[]
  }[]
}

const BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1 }

test('the Export dialog downloads the run model as a zip with model.json and its weight shards', async ({
  appPage: page,
  server
}) => {
  test.setTimeout(300_000)
  const dir = mkdtempSync(join(tmpdir(), 'hist-e2e-export-'))
  try {
    await makeImageFolder(dir, ['red', 'green', 'blue', 'yellow'], 5)
    const datasetId = await importFolder(page, server, dir, 'colours')
    const run = await trainRun(
      page,
      server,
      quickConfig(datasetId, { name: 'to export', backbone: { kind: 'small-cnn', inputSize: 32 } })
    )
    await page.goto(`${server.origin}/#/runs/${run.id}`)
    await page.getByRole('button', { name: 'Export…' }).click()
    const dialog = page.getByRole('dialog', { name: 'Export run' })
    // In web mode the download comes first, as a button under its own heading; writing into a
    // folder (on the server's disk) is the second choice and says so.
    await expect(dialog.getByRole('heading', { name: 'Download to this computer' })).toBeVisible()
    await expect(
      dialog.getByRole('heading', { name: 'Or write it into a folder on the server' })
    ).toBeVisible()
    await expect(dialog.getByRole('button', { name: 'Export on the server' })).toBeVisible()
    const link = dialog.getByTestId('download-model-zip')
    await expect(link).toHaveClass(/\bbtn\b/)
    await expect(link).toHaveAttribute('href', `/download/model/${run.id}.zip`)
    // The fields do not touch: the folder field's label sits clear of the format select.
    const select = (await dialog.getByTestId('export-format').boundingBox())!
    const label = (await dialog.getByText('Export into folder', { exact: true }).boundingBox())!
    expect(label.y - (select.y + select.height)).toBeGreaterThanOrEqual(6)
    await screenshotBoth(page, 'run-export-dialog-web')

    const [download] = await Promise.all([page.waitForEvent('download'), link.click()])
    expect(download.suggestedFilename()).toBe(`hist-run-${run.id}-tfjs-model.zip`)
    const file = await download.path()
    const files = unzipSync(new Uint8Array(readFileSync(file)))
    expect(Object.keys(files)).toContain('model.json')
    const model = JSON.parse(new TextDecoder().decode(files['model.json'])) as ModelJson
    expect(model.modelTopology).toBeTruthy()
    const shards = model.weightsManifest.flatMap((g) => g.paths)
    expect(shards.length).toBeGreaterThan(0)
    for (const s of shards) expect(Object.keys(files)).toContain(s)
    // The shards hold exactly the bytes the manifest's weights need.
    const want = model.weightsManifest
      .flatMap((g) => g.weights)
      .reduce((sum, w) => sum + w.shape.reduce((p, x) => p * x, 1) * (BYTES[w.dtype] ?? NaN), 0)
    const got = shards.reduce((sum, s) => sum + files[s].length, 0)
    expect(got).toBe(want)
    expect(got).toBeGreaterThan(1000)

    // An unknown run is a 404, not an empty zip.
    const missing = await page.request.get(`${server.origin}/download/model/99999.zip`)
    expect(missing.status()).toBe(404)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
