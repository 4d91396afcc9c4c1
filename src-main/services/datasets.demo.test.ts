import { existsSync, readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import { afterAll, describe, expect, it } from 'vitest'
import type { AppEvent } from '../../src-preload/contract'
import { createDatasetsService } from './datasets'
import { demoRoot, DEMO_DATASET_ATTRIBUTION, FASHION_MNIST_CLASSES } from '../datasets/demo'
import { getDatasetClasses } from '../datasets/queries'
import { tempContext } from '../datasets/datasets.testutil'

const c = tempContext()
afterAll(() => c.dispose())

describe('built-in Fashion-MNIST demo', () => {
  it('writes real 28×28 greyscale PNGs and imports them as a built-in dataset with a 0-4 / 5-9 preset', async () => {
    const events: AppEvent[] = []
    c.events.on((e) => events.push(e))
    const svc = createDatasetsService(c)
    const d = await svc.ensureDemo()
    expect(d).toMatchObject({
      builtIn: true,
      format: 'folder',
      classCount: 10,
      imageCount: 3000,
      problemCount: 0
    })
    expect(d.splits).toEqual([
      { name: 'train', classCount: 5, imageCount: 1500 },
      { name: 'test', classCount: 5, imageCount: 1500 }
    ])
    expect(events.filter((e) => e.type === 'datasets.changed')).toHaveLength(1)
    const root = demoRoot(c)
    expect(d.root).toBe(root)
    expect(readdirSync(root).sort()).toEqual([...FASHION_MNIST_CLASSES, 'README.txt'].sort())
    const m = await sharp(join(root, 'Trouser', '0000.png')).metadata()
    expect([m.format, m.width, m.height, m.channels]).toEqual(['png', 28, 28, 1])
    expect(getDatasetClasses(c, d.id, 'train').map((k) => k.name)).toEqual(
      FASHION_MNIST_CLASSES.slice(0, 5)
    )
    expect(getDatasetClasses(c, d.id, 'test').map((k) => [k.name, k.label])).toEqual(
      FASHION_MNIST_CLASSES.slice(5).map((n, i) => [n, i])
    )
    expect(DEMO_DATASET_ATTRIBUTION).toMatch(/Zalando Research.*MIT/)

    // idempotent: same dataset, no new event
    const again = await svc.ensureDemo()
    expect(again.id).toBe(d.id)
    expect(events.filter((e) => e.type === 'datasets.changed')).toHaveLength(1)
    expect(await svc.list()).toHaveLength(1)

    // a deleted file is restored
    rmSync(join(root, 'Bag', '0007.png'))
    const repaired = await svc.ensureDemo()
    expect(repaired).toMatchObject({ id: d.id, imageCount: 3000 })
    expect(existsSync(join(root, 'Bag', '0007.png'))).toBe(true)

    // removing the built-in dataset also removes its generated files
    await svc.remove({ id: d.id })
    expect(existsSync(root)).toBe(false)
  })
})
