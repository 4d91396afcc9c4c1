/**
 * Embedding map: hovering a point shows its thumbnail and file name, a box selection opens the
 * selected images in a grid (each opens in the viewer), the colouring switches between class,
 * R@1 outcome and split, and the whole-dataset map adds the training images. Clicking a point
 * searches with it in the retrieval browser: a test point in the test split, a train point in the
 * whole dataset.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Page } from '@playwright/test'
import type { EmbeddingMap } from '../src-preload/contract'
import { expect, test } from './fixtures'
import { importFolder, makeImageFolder, quickConfig, screenshotBoth, trainRun } from './uiHelpers'

/** Waits for the next embedding map the page fetches and returns it. */
async function nextMap(page: Page, action: () => Promise<unknown>): Promise<EmbeddingMap> {
  const [res] = await Promise.all([
    page.waitForResponse((r) => r.url().includes('/api/retrieval.embeddingMap'), {
      timeout: 240_000
    }),
    action()
  ])
  const body = (await res.json()) as { result?: EmbeddingMap; error?: { message: string } }
  if (!body.result) throw new Error(`embeddingMap failed: ${body.error?.message}`)
  return body.result
}

/**
 * The pixel of point i in the chart box, as the renderer lays it out (mapAxes / mapPixel in
 * src-renderer/src/charts/options/map.ts, which e2e cannot import): fixed axes from -pad to
 * max + pad (pad = 3 % of MAP_GRID = 300) inside an 8 px inset.
 */
function mapPixel(map: EmbeddingMap, i: number, width: number, height: number): [number, number] {
  const pad = 300
  const inset = 8
  const maxX = Math.max(0, ...map.x) + pad
  const maxY = Math.max(0, ...map.y) + pad
  return [
    inset + ((map.x[i] + pad) / (maxX + pad)) * (width - 2 * inset),
    inset + (1 - (map.y[i] + pad) / (maxY + pad)) * (height - 2 * inset)
  ]
}

/** The point (of those `of` keeps) farthest from every other one (its hover cannot hit a neighbour). */
function loneliest(map: EmbeddingMap, of: (i: number) => boolean = () => true): number {
  let best = 0
  let bestD = -1
  for (let i = 0; i < map.x.length; i++) {
    if (!of(i)) continue
    let near = Infinity
    for (let j = 0; j < map.x.length; j++) {
      if (i === j) continue
      near = Math.min(near, Math.hypot(map.x[i] - map.x[j], map.y[i] - map.y[j]))
    }
    if (near > bestD) {
      bestD = near
      best = i
    }
  }
  return best
}

test('embedding map: hover, box selection into a grid, colourings and the whole dataset', async ({
  appPage: page,
  server
}) => {
  test.setTimeout(600_000)
  const dir = mkdtempSync(join(tmpdir(), 'hist-e2e-map-'))
  try {
    await makeImageFolder(dir, ['red', 'green', 'blue', 'yellow', 'purple', 'cyan'], 5)
    const datasetId = await importFolder(page, server, dir, 'colours')
    const run = await trainRun(page, server, quickConfig(datasetId, { name: 'map run' }))

    // The run opens on its Curves tab; the chosen tab goes into the route (?tab=map).
    await page.goto(`${server.origin}/#/runs/${run.id}`)
    const mapTab = page.getByRole('tab', { name: 'Embedding map' })
    await expect(page.getByRole('tab', { name: 'Curves' })).toHaveAttribute('aria-selected', 'true')
    const map = await nextMap(page, () => mapTab.click())
    await expect(page).toHaveURL(new RegExp(`/runs/${run.id}\\?tab=map$`))
    expect(map.scope).toBe('test')
    const chart = page.getByRole('img', { name: 'Embedding map of the test images' })
    await expect(chart).toBeVisible()
    await expect(page.getByTestId('map-summary')).toContainText(
      `${map.imageIds.length} test images`
    )

    // Hover: the tooltip shows the point's thumbnail and file name, not an internal id.
    const box = (await chart.boundingBox())!
    const i = loneliest(map)
    const [px, py] = mapPixel(map, i, box.width, box.height)
    await page.mouse.move(box.x + px - 3, box.y + py - 3)
    await page.mouse.move(box.x + px, box.y + py, { steps: 3 })
    const tip = page.locator('.map-tooltip')
    await expect(tip).toBeVisible()
    await expect(tip.locator('.map-tip-name')).toHaveText(map.base[i])
    const thumb = tip.locator('img')
    await expect(thumb).toHaveAttribute('src', new RegExp(`/thumb/${map.imageIds[i]}$`))
    await expect
      .poll(() =>
        thumb.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth)
      )
      .toBeGreaterThan(0)
    await screenshotBoth(page, 'map-hover')

    // Colouring: the legend follows the choice.
    const legend = page.getByRole('group', { name: /Legend/ }).locator('[data-legend-entry]')
    await expect(legend).toHaveCount(new Set(map.classIds).size)
    await page.getByRole('radio', { name: 'R@1 hit/miss', exact: true }).click()
    await expect(legend.first()).toContainText(/R@1 (hit|miss)/)
    const outcomes = new Set(map.hit).size
    await expect(legend).toHaveCount(outcomes)
    await page.getByRole('radio', { name: 'Split', exact: true }).click()
    await expect(legend).toHaveCount(1)
    await expect(legend.first()).toContainText('test')
    // Hiding a category takes its points off the map and out of selections.
    await legend.first().click()
    await expect(legend.first()).toHaveAttribute('aria-pressed', 'false')
    await legend.first().click()
    await page.getByRole('radio', { name: 'Class', exact: true }).click()

    // Box selection over the whole plot opens every image in the grid; a tile opens the viewer.
    await page.getByRole('radio', { name: 'Box select', exact: true }).click()
    // The whole plot must be on screen (above the status bar) for the drag.
    await chart.evaluate((el) => el.scrollIntoView({ block: 'center' }))
    const plot = (await chart.boundingBox())!
    // Inside the plot's inset (8 px), where the brush starts.
    await page.mouse.move(plot.x + 10, plot.y + 10)
    await page.mouse.down()
    await page.mouse.move(plot.x + plot.width - 10, plot.y + plot.height - 10, { steps: 12 })
    await page.mouse.up()
    const selection = page.getByTestId('map-selection')
    await expect(selection).toBeVisible()
    await expect(selection).toContainText(`${map.imageIds.length} selected images`)
    const tiles = selection.getByRole('button', { name: /^Open / })
    await expect(tiles.first()).toBeVisible()
    const tilePath = (await tiles.first().getAttribute('title'))!
    await tiles.first().click()
    const viewer = page.getByRole('dialog', { name: new RegExp(tilePath.replace('.', '\\.')) })
    await expect(viewer).toBeVisible()
    await expect
      .poll(() =>
        viewer
          .locator('img')
          .evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth)
      )
      .toBeGreaterThan(0)
    await screenshotBoth(page, 'map-selection-viewer')
    await page.keyboard.press('Escape')
    await expect(viewer).toBeHidden()
    await selection.getByRole('button', { name: 'Clear selection' }).click()
    await expect(selection).toBeHidden()

    // A lasso around the lonely point's neighbourhood selects it (and maybe a few others).
    await page.getByRole('radio', { name: 'Lasso select', exact: true }).click()
    const [lx, ly] = mapPixel(map, i, plot.width, plot.height)
    const ring = Array.from({ length: 13 }, (_, k) => [
      plot.x + lx + 30 * Math.cos((k / 12) * 2 * Math.PI),
      plot.y + ly + 30 * Math.sin((k / 12) * 2 * Math.PI)
    ])
    await page.mouse.move(ring[0][0], ring[0][1])
    await page.mouse.down()
    for (const [x, y] of ring.slice(1)) await page.mouse.move(x, y, { steps: 2 })
    await page.mouse.up()
    await expect(selection).toBeVisible()
    await expect(selection).toContainText(/\d+ selected images?/)
    await expect(
      selection.locator(`[title="${map.dirs[map.dir[i]]}/${map.base[i]}"]`)
    ).toBeVisible()
    await selection.getByRole('button', { name: 'Clear selection' }).click()

    // In pan mode, clicking a test point searches with it in the retrieval browser.
    await page.getByRole('radio', { name: 'Pan & zoom', exact: true }).click()
    await page.mouse.click(plot.x + lx, plot.y + ly)
    await expect(page).toHaveURL(new RegExp(`/retrieval\\?run=${run.id}&query=${map.imageIds[i]}`))
    await expect(page.getByTestId('query-label')).toBeVisible()
    // Back returns to the tab the user left (not the default Curves tab); so do forward + back
    // and a reload.
    await page.goBack()
    await expect(page).toHaveURL(new RegExp(`/runs/${run.id}\\?tab=map$`))
    await expect(mapTab).toHaveAttribute('aria-selected', 'true')
    await expect(chart).toBeVisible()
    // Leaving the retrieval browser before its run list has loaded must not rewrite the run
    // view's route (the browser's late replace used to drop ?tab=map): hold the list until the
    // user is back, then let it answer.
    let releaseRuns = (): void => undefined
    const runsHeld = new Promise<void>((r) => (releaseRuns = r))
    await page.route('**/api/runs.list', async (route) => {
      await runsHeld
      await route.continue()
    })
    await page.goForward()
    await expect(page).toHaveURL(/\/retrieval\?/)
    await page.goBack()
    await expect(mapTab).toHaveAttribute('aria-selected', 'true')
    const listed = page.waitForResponse('**/api/runs.list')
    releaseRuns()
    await listed
    await page.unroute('**/api/runs.list')
    await expect(page).toHaveURL(new RegExp(`/runs/${run.id}\\?tab=map$`))
    await expect(mapTab).toHaveAttribute('aria-selected', 'true')
    await page.reload()
    await expect(mapTab).toHaveAttribute('aria-selected', 'true')
    await expect(chart).toBeVisible()

    // A box selection, then the whole dataset: while it loads (its request held here) the
    // test-split map, its summary and the selection grid are gone, and the new map arrives
    // without the old selection; the box tool still selects on it.
    await page.getByRole('radio', { name: 'Box select', exact: true }).click()
    await chart.evaluate((el) => el.scrollIntoView({ block: 'center' }))
    const before = (await chart.boundingBox())!
    await page.mouse.move(before.x + 10, before.y + 10)
    await page.mouse.down()
    await page.mouse.move(before.x + before.width - 10, before.y + before.height - 10, {
      steps: 12
    })
    await page.mouse.up()
    await expect(selection).toBeVisible()
    let release = (): void => undefined
    const held = new Promise<void>((r) => (release = r))
    await page.route('**/api/retrieval.embeddingMap', async (route) => {
      await held
      await route.continue()
    })
    // The whole dataset: train images join the map, and the split colouring shows both.
    const whole = await nextMap(page, async () => {
      await page.getByRole('radio', { name: 'Whole dataset', exact: true }).click()
      await expect(page.getByText(/^Computing the (PCA|UMAP) map…$/)).toBeVisible()
      await expect(selection).toBeHidden()
      await expect(chart).toBeHidden()
      await expect(page.getByTestId('map-summary')).toBeHidden()
      release()
    })
    await page.unroute('**/api/retrieval.embeddingMap')
    expect(whole.scope).toBe('dataset')
    await expect(page.getByTestId('map-summary')).toBeVisible()
    await expect(selection).toBeHidden()
    const wholePlot = page.getByRole('img', { name: 'Embedding map of the whole dataset' })
    await wholePlot.evaluate((el) => el.scrollIntoView({ block: 'center' }))
    const after = (await wholePlot.boundingBox())!
    await page.mouse.move(after.x + 10, after.y + 10)
    await page.mouse.down()
    await page.mouse.move(after.x + after.width - 10, after.y + after.height - 10, { steps: 12 })
    await page.mouse.up()
    await expect(selection).toContainText(`${whole.imageIds.length} selected images`)
    await selection.getByRole('button', { name: 'Clear selection' }).click()
    await page.getByRole('radio', { name: 'Pan & zoom', exact: true }).click()
    expect(whole.split).toContain(0)
    await expect(
      page.getByRole('img', { name: 'Embedding map of the whole dataset' })
    ).toBeVisible()
    await expect(page.getByTestId('map-summary')).toContainText(
      `${whole.imageIds.length} images (${whole.split.filter((s) => s === 0).length} train)`
    )
    await page.getByRole('radio', { name: 'Split', exact: true }).click()
    await expect(legend).toHaveCount(2)
    await expect(legend.nth(1)).toContainText('train')
    await screenshotBoth(page, 'map-dataset-split')

    // Clicking a train point searches with it in the whole dataset.
    const t = loneliest(whole, (k) => whole.split[k] === 0)
    expect(whole.split[t]).toBe(0)
    const wholeChart = page.getByRole('img', { name: 'Embedding map of the whole dataset' })
    await wholeChart.scrollIntoViewIfNeeded()
    const wholeBox = (await wholeChart.boundingBox())!
    const [tx, ty] = mapPixel(whole, t, wholeBox.width, wholeBox.height)
    await page.mouse.move(wholeBox.x + tx - 3, wholeBox.y + ty - 3)
    await page.mouse.move(wholeBox.x + tx, wholeBox.y + ty, { steps: 3 })
    await expect(tip.locator('.map-tip-name')).toHaveText(whole.base[t])
    await page.mouse.click(wholeBox.x + tx, wholeBox.y + ty)
    await expect(page).toHaveURL(
      new RegExp(`/retrieval\\?run=${run.id}&gallery=all&query=${whole.imageIds[t]}$`)
    )
    await expect(page.getByTestId('query-label')).toBeVisible()
    await expect(page.locator('#gallery-select')).toHaveValue('all')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
