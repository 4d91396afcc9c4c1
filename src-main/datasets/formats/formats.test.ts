import { readFileSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { importDataset } from '../importer'
import { getDatasetItems } from '../queries'
import { datasetsRepo } from '../repo'
import {
  jpegBytes,
  makeFolderDataset,
  pngBytes,
  put,
  tempContext,
  tempDir,
  writeMat,
  type MatValue
} from '../datasets.testutil'
import { locateDataset, readListing } from './index'

const ctxs: ReturnType<typeof tempContext>[] = []
function ctx(): ReturnType<typeof tempContext> {
  const c = tempContext()
  ctxs.push(c)
  return c
}
afterEach(() => {
  while (ctxs.length) ctxs.pop()!.dispose()
})

describe('folder format', () => {
  it('reads nested class folders, groups from "Group__name", and reports non-images and stray images', async () => {
    const root = tempDir()
    await makeFolderDataset(
      root,
      ['Greek__character01', 'Greek__character02', 'Latin__character01'],
      2
    )
    put(root, 'Latin__character01/deeper/more/x.png', await pngBytes(99))
    put(root, 'Latin__character01/notes.txt', 'hello')
    put(root, 'Latin__character01/.hidden.png', 'ignored')
    put(root, 'stray.jpg', await jpegBytes(5))
    put(root, 'README.md', 'not an image, outside class folders')
    const loc = await locateDataset(root, 'auto')
    expect(loc.format).toBe('folder')
    const l = await readListing(loc)
    expect(l.classes.map((c) => [c.name, c.group, c.ordinal, c.presetSplit])).toEqual([
      ['Greek__character01', 'Greek', 1, null],
      ['Greek__character02', 'Greek', 2, null],
      ['Latin__character01', 'Latin', 3, null]
    ])
    expect(l.images.map((i) => i.relPath)).toContain('Latin__character01/deeper/more/x.png')
    expect(l.images).toHaveLength(7)
    expect(l.problems.map((p) => [p.kind, p.relPath])).toEqual([
      ['unsupported', 'Latin__character01/notes.txt'],
      ['unsupported', 'stray.jpg']
    ])
  })

  it('refuses a folder without class folders with a clear error', async () => {
    const root = tempDir()
    put(root, 'a.png', await pngBytes(1))
    await expect(importDataset(ctx(), { path: root })).rejects.toThrow(/no class folders/)
  })

  it('excludes a symlinked file that points outside the root', async () => {
    const root = tempDir()
    const outside = tempDir()
    await makeFolderDataset(root, ['a', 'b'], 2)
    put(outside, 'secret.png', await pngBytes(77))
    symlinkSync(join(outside, 'secret.png'), join(root, 'a', 'link.png'))
    const res = await importDataset(ctx(), { path: root })
    expect(res.dataset.imageCount).toBe(4)
    expect(res.problems).toEqual([
      expect.objectContaining({ kind: 'unreadable', relPath: 'a/link.png', excluded: true })
    ])
  })
})

describe('CUB-200-2011', () => {
  async function makeCub(base: string): Promise<void> {
    // Class numbers 1, 2 (train half) and 101, 102 (test half), two images each.
    const classes = [
      [1, '001.Black_footed_Albatross'],
      [2, '002.Laysan_Albatross'],
      [101, '101.White_Pelican'],
      [102, '102.Western_Wood_Pewee']
    ] as const
    const images: string[] = []
    const labels: string[] = []
    let id = 1
    for (const [n, name] of classes) {
      for (let i = 0; i < 2; i++) {
        const rel = `${name}/${name.slice(4)}_${i}.jpg`
        put(base, `images/${rel}`, await jpegBytes(id + 10))
        images.push(`${id} ${rel}`)
        labels.push(`${id} ${n}`)
        id++
      }
    }
    images.push(`${id} ${classes[0][1]}/missing.jpg`)
    labels.push(`${id} 1`)
    images.push(`${id + 1} ${images[0].split(' ')[1]}`)
    labels.push(`${id + 1} 1`)
    put(base, 'images.txt', images.join('\n') + '\n')
    put(base, 'image_class_labels.txt', labels.join('\n') + '\n')
    put(base, 'classes.txt', classes.map(([n, name]) => `${n} ${name}`).join('\n') + '\n')
  }

  it('imports from root/CUB_200_2011 with the 1-100 / 101-200 preset, reporting missing and repeated entries', async () => {
    const root = tempDir()
    await makeCub(join(root, 'CUB_200_2011'))
    const c = ctx()
    const res = await importDataset(c, { path: root })
    expect(res.dataset.format).toBe('cub')
    expect(res.dataset.classCount).toBe(4)
    expect(res.dataset.imageCount).toBe(8)
    expect(res.dataset.splits).toEqual([
      { name: 'train', classCount: 2, imageCount: 4 },
      { name: 'test', classCount: 2, imageCount: 4 }
    ])
    const kinds = res.problems.map((p) => p.kind).sort()
    expect(kinds).toEqual(['listed-twice', 'missing'])
    const missing = res.problems.find((p) => p.kind === 'missing')!
    expect(missing.message).toMatch(/images\.txt line 9/)
    const items = getDatasetItems(c, res.dataset.id, 'test')
    expect(items.map((i) => i.label)).toEqual([0, 0, 1, 1])
    expect(items[0].relPath).toMatch(/^CUB_200_2011\/images\/101\.White_Pelican\//)
  })

  it('can be forced and says what is missing when it is not CUB', async () => {
    const root = tempDir()
    await makeFolderDataset(root, ['a', 'b'], 1)
    await expect(locateDataset(root, 'cub')).rejects.toThrow(
      /not a cub dataset: expected images\.txt/
    )
  })
})

describe('Stanford Online Products', () => {
  it('reads Ebay_train/Ebay_test: class_id = class, super class = group, split by list', async () => {
    const root = tempDir()
    const base = join(root, 'Stanford_Online_Products')
    const train = ['image_id class_id super_class_id path']
    const test = ['image_id class_id super_class_id path']
    let id = 1
    for (const [cls, sup, folder, list] of [
      [1, 1, 'bicycle_final', train],
      [2, 2, 'cabinet_final', train],
      [3, 1, 'bicycle_final', test]
    ] as const) {
      for (let i = 0; i < 2; i++) {
        const rel = `${folder}/${1000 + cls}_${i}.JPG`
        put(base, rel, await jpegBytes(id + 100))
        list.push(`${id++} ${cls} ${sup} ${rel}`)
      }
    }
    put(base, 'Ebay_train.txt', train.join('\n') + '\n')
    put(base, 'Ebay_test.txt', test.join('\n') + '\n')
    const c = ctx()
    const res = await importDataset(c, { path: root })
    expect(res.dataset.format).toBe('sop')
    expect(res.problems).toEqual([])
    const detail = datasetsRepo(c.db).classes(res.dataset.id)
    expect(detail.map((x) => [x.name, x.grp, x.preset_split, x.split])).toEqual([
      ['1', 'bicycle', 'train', 'train'],
      ['2', 'cabinet', 'train', 'train'],
      ['3', 'bicycle', 'test', 'test']
    ])
  })
})

describe('In-Shop', () => {
  it('reads list_eval_partition.txt with query/gallery roles (official Eval/ + Img/ layout)', async () => {
    const root = tempDir()
    const rows: string[] = []
    let seed = 200
    const add = async (item: string, n: number, status: string): Promise<void> => {
      const rel = `img/WOMEN/Dresses/${item}/0${n}_1_front.jpg`
      put(join(root, 'Img'), rel, await jpegBytes(seed++))
      rows.push(`${rel} ${item} ${status}`)
    }
    await add('id_00000001', 1, 'train')
    await add('id_00000001', 2, 'train')
    await add('id_00000002', 1, 'query')
    await add('id_00000002', 2, 'gallery')
    await add('id_00000002', 3, 'gallery')
    put(
      root,
      'Eval/list_eval_partition.txt',
      `${rows.length}\nimage_name item_id evaluation_status\n${rows.join('\n')}\n`
    )
    const c = ctx()
    const res = await importDataset(c, { path: root })
    expect(res.dataset.format).toBe('inshop')
    expect(res.problems).toEqual([])
    expect(res.dataset.splits).toEqual([
      { name: 'train', classCount: 1, imageCount: 2 },
      { name: 'test', classCount: 1, imageCount: 3 },
      { name: 'query', classCount: 1, imageCount: 1 },
      { name: 'gallery', classCount: 1, imageCount: 2 }
    ])
    const q = getDatasetItems(c, res.dataset.id, 'query')
    expect(q.map((i) => [i.role, i.relPath])).toEqual([
      ['query', 'Img/img/WOMEN/Dresses/id_00000002/01_1_front.jpg']
    ])
    expect(getDatasetItems(c, res.dataset.id, 'gallery')).toHaveLength(2)
    expect(datasetsRepo(c.db).groups(res.dataset.id)).toEqual(['WOMEN/Dresses'])
  })
})

describe('Cars196 (cars_annos.mat via the MAT v5 reader)', () => {
  async function makeCars(
    root: string,
    compress: boolean,
    classType: 'double' | 'uint8'
  ): Promise<void> {
    const annos: Record<string, MatValue>[] = []
    let seed = 300
    for (const cls of [1, 2, 99, 100]) {
      for (let i = 0; i < 2; i++) {
        const rel = `car_ims/${String(seed).padStart(6, '0')}.jpg`
        put(root, rel, await jpegBytes(seed++))
        annos.push({
          relative_im_path: { t: 'char', v: rel },
          bbox_x1: { t: 'double', v: 1 },
          class: { t: classType, v: cls },
          test: { t: 'uint8', v: cls > 98 ? 1 : 0 }
        })
      }
    }
    const names: MatValue[] = Array.from({ length: 100 }, (_, i) => ({
      t: 'char',
      v: `Car Model ${i + 1} 2012`
    }))
    writeMat(
      join(root, 'cars_annos.mat'),
      {
        annotations: {
          t: 'struct',
          fields: ['relative_im_path', 'bbox_x1', 'class', 'test'],
          v: annos
        },
        class_names: { t: 'cell', v: names }
      },
      compress
    )
  }

  for (const [compress, classType] of [
    [false, 'double'],
    [true, 'uint8']
  ] as const) {
    it(`reads a ${compress ? 'compressed' : 'plain'} MAT v5 struct array (class as ${classType}) with the 1-98 / 99-196 preset`, async () => {
      const root = tempDir()
      await makeCars(root, compress, classType)
      const c = ctx()
      const res = await importDataset(c, { path: root })
      expect(res.dataset.format).toBe('cars')
      expect(res.problems).toEqual([])
      expect(res.dataset.classCount).toBe(4)
      const classes = datasetsRepo(c.db).classes(res.dataset.id)
      expect(classes.map((x) => [x.name, x.ordinal, x.split])).toEqual([
        ['Car Model 1 2012', 1, 'train'],
        ['Car Model 2 2012', 2, 'train'],
        ['Car Model 99 2012', 99, 'test'],
        ['Car Model 100 2012', 100, 'test']
      ])
    })
  }

  it('fails clearly on a file that is not a MAT v5 file', async () => {
    const root = tempDir()
    put(root, 'cars_annos.mat', Buffer.alloc(200, 7))
    await expect(importDataset(ctx(), { path: join(root, 'cars_annos.mat') })).rejects.toThrow(
      /cannot parse .*cars_annos\.mat as a MATLAB level-5 MAT-file/
    )
  })

  it('says a truncated cars_annos.mat is truncated', async () => {
    const root = tempDir()
    await makeCars(root, true, 'double')
    const file = join(root, 'cars_annos.mat')
    put(root, 'cars_annos.mat', readFileSync(file).subarray(0, 300))
    await expect(importDataset(ctx(), { path: root })).rejects.toThrow(
      /cannot parse .*cars_annos\.mat as a MATLAB level-5 MAT-file .*truncated or damaged/
    )
  })

  it('says a MAT v7.3 (HDF5) file is not supported', async () => {
    const root = tempDir()
    const buf = Buffer.alloc(200, 0)
    buf.writeUInt16LE(0x0200, 124)
    buf.write('IM', 126, 'latin1')
    put(root, 'cars_annos.mat', buf)
    await expect(importDataset(ctx(), { path: root, format: 'cars' })).rejects.toThrow(
      /v7\.3 \(HDF5\) files are not supported/
    )
  })
})

describe('CSV (open-metric-learning)', () => {
  it('reads label/path/split/is_query/is_gallery, relative and absolute paths, and reports bad rows', async () => {
    const root = tempDir()
    const outside = tempDir()
    for (let i = 0; i < 6; i++) put(root, `images/${i}.png`, await pngBytes(400 + i))
    put(outside, 'x.png', await pngBytes(499))
    const abs = join(root, 'images', '5.png')
    put(
      root,
      'df.csv',
      [
        'label,path,split,is_query,is_gallery,category',
        '0,images/0.png,train,,,shoes',
        '0,images/1.png,train,,,shoes',
        '1,"images/2.png",validation,True,True,bags',
        '1,images/3.png,validation,False,True,bags',
        `2,${abs},validation,1,0,bags`,
        '2,images/4.png,validation,0,1,bags',
        `2,${join(outside, 'x.png')},validation,0,1,bags`,
        '2,images/4.png,validation,0,1,bags',
        '3,images/nope.png,train,,,shoes',
        ',images/0.png,train,,,'
      ].join('\n')
    )
    const c = ctx()
    const res = await importDataset(c, { path: join(root, 'df.csv') })
    expect(res.dataset.format).toBe('csv')
    expect(res.dataset.imageCount).toBe(6)
    expect(res.problems.map((p) => p.kind).sort()).toEqual([
      'empty-class',
      'listed-twice',
      'missing',
      'unreadable',
      'unreadable'
    ])
    expect(res.problems.find((p) => p.relPath.endsWith('x.png'))!.message).toMatch(
      /outside the dataset root/
    )
    const items = getDatasetItems(c, res.dataset.id, 'all')
    expect(items.find((i) => i.relPath === 'images/5.png')!.role).toBe('query')
    expect(items.find((i) => i.relPath === 'images/2.png')!.role).toBe('both')
    const q = getDatasetItems(c, res.dataset.id, 'query')
    expect(q.map((i) => i.relPath)).toEqual(['images/2.png', 'images/5.png'])
    expect(datasetsRepo(c.db).groups(res.dataset.id)).toEqual(['bags', 'shoes'])
    // auto-detection finds the single CSV in the folder
    expect((await locateDataset(root, 'auto')).format).toBe('csv')
  })

  it('names the missing columns', async () => {
    const root = tempDir()
    put(root, 'bad.csv', 'file,class\na.png,1\n')
    await expect(importDataset(ctx(), { path: join(root, 'bad.csv') })).rejects.toThrow(
      /missing column\(s\) label, path/
    )
  })
})
