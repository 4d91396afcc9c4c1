/**
 * Retrieval galleries: a whole-dataset search (train and test images), the class filter, the
 * ranks of missed ground truth, "Use as query" with Back, and two runs side by side on the
 * whole dataset. Small-CNN runs on 6 generated classes of 10 images train in seconds.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { GalleryClass, ImageRef, QueryResult } from '../src-preload/contract'
import { expect, screenshot, test } from './fixtures'
import {
  api,
  importFolder,
  makeImageFolder,
  quickConfig,
  screenshotBoth,
  trainRun
} from './uiHelpers'

const small = {
  backbone: { kind: 'small-cnn', inputSize: 32 },
  embeddingSize: 32,
  hgnnHidden: 16,
  batchSize: 16,
  split: { kind: 'class-ratio', trainRatio: 0.5, seed: 1 }
} as const

test('searches the whole dataset, filters by class, shows missed ranks and uses a result as the query', async ({
  appPage: page,
  server
}) => {
  test.setTimeout(420_000)
  const dir = mkdtempSync(join(tmpdir(), 'hist-e2e-gallery-'))
  try {
    await makeImageFolder(dir, ['red', 'green', 'blue', 'yellow', 'purple', 'teal'], 10)
    const datasetId = await importFolder(page, server, dir, 'colours')
    const run = await trainRun(page, server, quickConfig(datasetId, { name: 'run A', ...small }))
    const runB = await trainRun(
      page,
      server,
      quickConfig(datasetId, { name: 'run B', ...small, seed: 9 })
    )
    const train = await api<{ total: number; images: ImageRef[] }>(
      page,
      server,
      'retrieval.testImages',
      { runId: run.id, gallery: 'train', limit: 50 }
    )
    expect(train.total).toBe(30)
    const q = train.images[3]

    // Without the trainer's feature cache the train images are decoded and embedded by the
    // run's model in the server's worker thread (the slow path a fine-tuned run always takes).
    rmSync(join(server.dataDir, 'cache', 'features'), { recursive: true, force: true })
    await page.goto(`${server.origin}/#/retrieval?run=${run.id}`)
    const gallery = page.getByLabel('Search in', { exact: true })
    await expect(gallery).toHaveValue('test')
    await gallery.selectOption('all')
    await expect(page).toHaveURL(new RegExp(`run=${run.id}&gallery=all$`))
    // The first whole-dataset search embeds the 30 train images as a job, with its progress.
    const progress = page.getByTestId('gallery-progress')
    await expect(progress).toBeVisible()
    await expect(progress).toContainText(/Embedding the dataset of run \d+ \("run A"\)/)
    await expect(progress.getByRole('progressbar')).toBeVisible()
    await screenshot(page, 'retrieval-gallery-progress')
    await expect(progress).toBeHidden({ timeout: 120_000 })
    // The query list now holds every image of the dataset, train images included.
    await expect(page.getByRole('tab', { name: 'All images' })).toBeVisible()
    await expect(page.getByText(/^60 images/)).toBeVisible()
    await page.getByLabel('Show', { exact: true }).selectOption('8')
    await page.getByLabel('Search query images by class or file name').fill(q.relPath)
    const items = page.locator('[data-query-item]')
    await expect(items).toHaveCount(1)
    await items.first().click()
    await expect(page).toHaveURL(new RegExp(`gallery=all&query=${q.id}`))
    await expect(page.getByTestId('query-label')).toHaveText(q.className)

    // The ranking is the whole dataset's (as the API ranks it), without the query itself.
    const expected = await api<QueryResult>(page, server, 'retrieval.query', {
      runId: run.id,
      imageId: q.id,
      gallery: 'all',
      k: 8
    })
    const cards = page.getByTestId('results').locator('[data-result]')
    await expect(cards).toHaveCount(8)
    for (const [i, n] of expected.neighbours.entries()) {
      await expect(cards.nth(i)).toHaveAttribute(
        'aria-label',
        new RegExp(`^Rank ${n.rank}: ${n.image.className}, .*${n.correct ? 'correct' : 'wrong'}`)
      )
    }
    expect(expected.neighbours.some((n) => n.image.id === q.id)).toBe(false)

    // Missed ground truth: 9 classmates, at most 8 shown, so some are missed, each with its rank.
    expect(expected.missed.length).toBeGreaterThan(0)
    const ranks = page.getByTestId('missed').getByTestId('missed-rank')
    await expect(ranks).toHaveText(expected.missed.map((m) => `#${m.rank}`))
    expect(expected.missed.every((m) => m.rank > 8)).toBe(true)
    await screenshotBoth(page, 'retrieval-gallery-all')

    // Class filter: only a test class, ranked as in the whole gallery.
    const classes = await api<GalleryClass[]>(page, server, 'retrieval.galleryClasses', {
      runId: run.id,
      gallery: 'all'
    })
    expect(classes.length).toBe(6)
    const other = classes.find((c) => c.classId !== q.classId && c.className !== q.className)!
    await page
      .getByLabel('Only classes')
      .selectOption({ label: `${other.className} (${other.count})` })
    await expect(page).toHaveURL(new RegExp(`classes=${other.classId}`))
    const filtered = await api<QueryResult>(page, server, 'retrieval.query', {
      runId: run.id,
      imageId: q.id,
      gallery: 'all',
      k: 8,
      classIds: [other.classId]
    })
    await expect(cards).toHaveCount(8)
    for (const [i, n] of filtered.neighbours.entries()) {
      expect(n.image.classId).toBe(other.classId)
      await expect(cards.nth(i)).toHaveAttribute(
        'aria-label',
        new RegExp(`^Rank ${n.rank}: ${other.className}, .*wrong: other class`)
      )
    }
    await expect(page.getByRole('list', { name: 'Classes shown' })).toContainText(other.className)
    await screenshotBoth(page, 'retrieval-gallery-class-filter')

    // "Use as query" on the second card: it becomes the query; gallery and filter stay; Back returns.
    const next = filtered.neighbours[1].image
    await cards.nth(1).getByTestId('use-as-query').click()
    await expect(page).toHaveURL(
      new RegExp(`gallery=all&query=${next.id}&classes=${other.classId}`)
    )
    await expect(page.getByTestId('query-label')).toHaveText(next.className)
    await expect(gallery).toHaveValue('all')
    await expect(cards.first()).toHaveAttribute('aria-label', /correct: same class/)
    await page.goBack()
    await expect(page).toHaveURL(new RegExp(`query=${q.id}&classes=${other.classId}`))
    await expect(page.getByTestId('query-label')).toHaveText(q.className)

    // Clearing the filter shows every class again.
    await page.getByRole('button', { name: 'Show all classes' }).click()
    await expect(page).not.toHaveURL(/classes=/)
    await expect(cards.first()).toHaveAttribute(
      'aria-label',
      new RegExp(`^Rank 1: ${expected.neighbours[0].image.className}, `)
    )

    // Two runs side by side on the whole dataset (run B embeds its train images first).
    await page.goto(
      `${server.origin}/#/retrieval?run=${run.id}&gallery=all&query=${q.id}&compare=${runB.id}`
    )
    const pair = page.getByTestId('side-by-side')
    await expect(pair).toBeVisible()
    const grids = pair.getByTestId('results')
    await expect(grids).toHaveCount(2)
    const expectedB = await api<QueryResult>(page, server, 'retrieval.query', {
      runId: runB.id,
      imageId: q.id,
      gallery: 'all',
      k: 8
    })
    await expect(grids.nth(1).locator('[data-result]')).toHaveCount(8)
    await expect(grids.nth(1).locator('[data-result]').first()).toHaveAttribute(
      'aria-label',
      new RegExp(`^Rank 1: ${expectedB.neighbours[0].image.className}, `)
    )
    await expect(pair.getByRole('heading', { name: /run B/ })).toBeVisible()

    // Back to the train split: the query list holds the 30 train images and no worst queries.
    await page.getByLabel('Search query images by class or file name').fill('')
    await gallery.selectOption('train')
    await expect(page).toHaveURL(/gallery=train/)
    await expect(page.getByText(/^30 images/)).toBeVisible()
    await expect(page.getByRole('tab', { name: 'Worst queries' })).toHaveCount(0)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
