/** datasets.list reads stored counts: its cost does not grow with the number of images. */
import { afterEach, describe, expect, it } from 'vitest'
import { applySplit } from './datasets'
import { importDataset } from '../datasets/importer'
import { datasetSummary, listDatasets } from '../datasets/queries'
import { makeFolderDataset, tempContext, tempDir } from '../datasets/datasets.testutil'

const ctxs: ReturnType<typeof tempContext>[] = []
function ctx(): ReturnType<typeof tempContext> {
  const c = tempContext()
  ctxs.push(c)
  return c
}
afterEach(() => {
  while (ctxs.length) ctxs.pop()!.dispose()
})

describe('dataset summary counts', () => {
  it('are stored, so listing does not read the images table at all', async () => {
    const c = ctx()
    const root = tempDir()
    await makeFolderDataset(root, ['a', 'b', 'c', 'd'], 3)
    await importDataset(c, { path: root })
    const first = listDatasets(c)
    // Hide the images and classes tables: a list that scanned them would now fail.
    c.db.exec('ALTER TABLE images RENAME TO images_hidden')
    c.db.exec('ALTER TABLE classes RENAME TO classes_hidden')
    try {
      expect(listDatasets(c)).toEqual(first)
    } finally {
      c.db.exec('ALTER TABLE images_hidden RENAME TO images')
      c.db.exec('ALTER TABLE classes_hidden RENAME TO classes')
    }
    expect(first[0]).toMatchObject({ classCount: 4, imageCount: 12, problemCount: 0 })
  })

  it('follow every change, whoever writes it (split, direct SQL, re-import)', async () => {
    const c = ctx()
    const root = tempDir()
    await makeFolderDataset(root, ['a', 'b', 'c', 'd'], 3)
    const { dataset } = await importDataset(c, { path: root })
    expect(datasetSummary(c, dataset.id).splits).toEqual([])
    const split = applySplit(c, dataset.id, { kind: 'class-range', train: [1, 2], test: [3, 4] })
    expect(split.splits.map((s) => [s.name, s.classCount, s.imageCount])).toEqual([
      ['train', 2, 6],
      ['test', 2, 6]
    ])
    expect(listDatasets(c)[0].splits).toEqual(split.splits)
    // A row written by plain SQL (another module, a migration) clears the stored counts too.
    const cls = c.db
      .prepare('SELECT id FROM classes WHERE dataset_id = ? LIMIT 1')
      .get(dataset.id) as {
      id: number
    }
    c.db
      .prepare(
        `INSERT INTO images (dataset_id, class_id, rel_path, size, mtime_ms, sha1) VALUES (?, ?, 'x.png', 1, 0, 'z')`
      )
      .run(dataset.id, cls.id)
    expect(listDatasets(c)[0].imageCount).toBe(13)
    c.db.prepare(`DELETE FROM images WHERE rel_path = 'x.png'`).run()
    c.db
      .prepare(
        `INSERT INTO problems (dataset_id, kind, rel_path, message, excluded) VALUES (?, 'corrupt', 'y', 'm', 1)`
      )
      .run(dataset.id)
    expect(listDatasets(c)[0]).toMatchObject({ imageCount: 12, problemCount: 1 })
    const again = await importDataset(c, { path: root })
    expect(again.dataset).toMatchObject({ imageCount: 12, problemCount: 0 })
    expect(listDatasets(c)[0]).toEqual(again.dataset)
  })
})
