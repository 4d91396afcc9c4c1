/**
 * The real-data check: the Omniglot folder from ../shared/datasets (sibling of the repo root;
 * HIST_SHARED_DATASETS overrides the folder holding it).
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import sharp from 'sharp'
import { afterAll, describe, expect, it } from 'vitest'
import { applySplit } from './datasets'
import { importDataset } from '../datasets/importer'
import { datasetDetail, getDatasetClasses, getDatasetItems } from '../datasets/queries'
import { tempContext } from '../datasets/datasets.testutil'

const sharedDatasets =
  process.env.HIST_SHARED_DATASETS ??
  fileURLToPath(new URL('../../../shared/datasets', import.meta.url))
const OMNIGLOT = join(sharedDatasets, 'omniglot-background-small')

const c = tempContext()
afterAll(() => c.dispose())

describe('Omniglot (real data)', () => {
  it('imports 242 classes, 4,840 images, 8 alphabet groups, no problems; splits by alphabet', async () => {
    expect(existsSync(OMNIGLOT), `missing real dataset folder ${OMNIGLOT}`).toBe(true)
    const res = await importDataset(c, { path: OMNIGLOT })
    expect(res.problems).toEqual([])
    expect(res.dataset).toMatchObject({
      format: 'folder',
      classCount: 242,
      imageCount: 4840,
      problemCount: 0,
      splits: []
    })
    const detail = datasetDetail(c, res.dataset.id)
    expect(detail.groups).toEqual([
      'Balinese',
      'Early_Aramaic',
      'Greek',
      'Japanese_(katakana)',
      'Korean',
      'Latin',
      'Sanskrit',
      'Tagalog'
    ])
    expect(detail.classes.every((k) => k.imageCount === 20)).toBe(true)

    const split = applySplit(c, res.dataset.id, {
      kind: 'group',
      train: ['Balinese', 'Early_Aramaic', 'Greek', 'Japanese_(katakana)'],
      test: ['Korean', 'Latin', 'Sanskrit', 'Tagalog']
    })
    expect(split.splits).toEqual([
      { name: 'train', classCount: 117, imageCount: 2340 },
      { name: 'test', classCount: 125, imageCount: 2500 }
    ])
    const train = getDatasetItems(c, res.dataset.id, 'train')
    expect(train).toHaveLength(2340)
    expect(new Set(train.map((i) => i.label)).size).toBe(117)
    expect(Math.max(...train.map((i) => i.label))).toBe(116)
    const test = getDatasetClasses(c, res.dataset.id, 'test')
    expect(test.map((k) => k.label)).toEqual([...Array(125).keys()])
    expect(test.every((k) => ['Korean', 'Latin', 'Sanskrit', 'Tagalog'].includes(k.group!))).toBe(
      true
    )

    // The stored sizes/channels agree with sharp on a sample (1-bit greyscale PNGs).
    for (const it of train.filter((_, i) => i % 97 === 0)) {
      const m = await sharp(it.absPath, { failOn: 'warning' }).metadata()
      expect([it.width, it.height, it.channels]).toEqual([m.width, m.height, m.channels])
      expect(it.channels).toBe(1)
    }

    // An unchanged re-import is quick and changes nothing.
    const again = await importDataset(c, { path: OMNIGLOT })
    expect(again.changes).toEqual({ added: 0, removed: 0, modified: 0, unchanged: 4840 })
    expect(again.dataset.splits).toEqual(split.splits)
  })
})
