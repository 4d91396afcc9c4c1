import { copyFileSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import { afterEach, describe, expect, it } from 'vitest'
import { CancelledError } from '../app/jobs'
import { openRgb } from './decode'
import { importDataset } from './importer'
import { getDatasetItems, listDatasets } from './queries'
import { datasetsRepo } from './repo'
import { jpegBytes, makeFolderDataset, pngBytes, put, tempContext, tempDir } from './datasets.testutil'

const ctxs: ReturnType<typeof tempContext>[] = []
function ctx(): ReturnType<typeof tempContext> {
  const c = tempContext()
  ctxs.push(c)
  return c
}
afterEach(() => {
  while (ctxs.length) ctxs.pop()!.dispose()
})

/** A folder dataset with one of every problem, plus good images that must all be kept. */
async function plantedDataset(): Promise<string> {
  const root = tempDir()
  put(root, 'classA/good1.png', await pngBytes(1))
  put(root, 'classA/good2.jpg', await jpegBytes(2, 64, 48))
  put(root, 'classA/café_ü.png', await pngBytes(3))
  const jpg = await jpegBytes(4, 64, 48)
  put(root, 'classA/truncated.jpg', jpg.subarray(0, Math.floor(jpg.length * 0.6)))
  const png = await pngBytes(5, 32)
  put(root, 'classA/truncated.png', png.subarray(0, png.length - 30))
  put(root, 'classA/text.jpg', 'this is a text file renamed to .jpg\nnothing to see here\n')
  put(root, 'classA/empty.png', Buffer.alloc(0))
  put(root, 'classA/old.bmp', Buffer.concat([Buffer.from('BM'), Buffer.alloc(60)]))
  copyFileSync(join(root, 'classA/good1.png'), join(root, 'classA/zz_dup.png'))
  put(root, 'classB/grey.png', await pngBytes(6, 16, 1))
  put(root, 'classB/grey_alpha.png', await pngBytes(7, 16, 2))
  put(root, 'classB/rgba.png', await pngBytes(8, 16, 4))
  put(root, 'single/only.png', await pngBytes(9))
  put(root, 'broken/bad.png', 'not a png')
  return root
}

describe('importing a folder with planted problems', () => {
  it('reports each problem with its reason and keeps every good image (including a non-ASCII name)', async () => {
    const c = ctx()
    const root = await plantedDataset()
    const res = await importDataset(c, { path: root })
    const byPath = new Map(res.problems.map((p) => [p.relPath, p]))
    expect(byPath.get('classA/truncated.jpg')).toMatchObject({ kind: 'corrupt', excluded: true })
    expect(byPath.get('classA/truncated.jpg')!.message).toMatch(/truncated|premature end/i)
    expect(byPath.get('classA/truncated.png')).toMatchObject({ kind: 'corrupt', excluded: true })
    expect(byPath.get('classA/text.jpg')).toMatchObject({ kind: 'corrupt', excluded: true })
    expect(byPath.get('classA/text.jpg')!.message).toMatch(/text/)
    expect(byPath.get('classA/empty.png')).toMatchObject({ kind: 'zero-byte', excluded: true })
    expect(byPath.get('classA/zz_dup.png')).toMatchObject({ kind: 'duplicate', excluded: true })
    expect(byPath.get('classA/zz_dup.png')!.message).toContain('classA/good1.png')
    expect(byPath.get('single')).toMatchObject({ kind: 'single-image-class', excluded: false })
    expect(byPath.get('broken/bad.png')).toMatchObject({ kind: 'corrupt', excluded: true })
    expect(byPath.get('broken')).toMatchObject({ kind: 'empty-class', excluded: true })
    expect(byPath.get('classA/old.bmp')).toMatchObject({ kind: 'unsupported', excluded: true })
    expect(res.problems).toHaveLength(9)

    expect(res.dataset.classCount).toBe(3)
    expect(res.dataset.imageCount).toBe(7)
    const items = getDatasetItems(c, res.dataset.id)
    expect(items.map((i) => i.relPath).sort()).toEqual([
      'classA/café_ü.png',
      'classA/good1.png',
      'classA/good2.jpg',
      'classB/grey.png',
      'classB/grey_alpha.png',
      'classB/rgba.png',
      'single/only.png'
    ])
    // problems are stored with the dataset
    expect(datasetsRepo(c.db).problems(res.dataset.id)).toEqual(res.problems)
  })

  it('records channels of grey / grey+alpha / RGBA images, and openRgb always yields 3 channels', async () => {
    const c = ctx()
    const res = await importDataset(c, { path: await plantedDataset() })
    const items = getDatasetItems(c, res.dataset.id)
    const ch = Object.fromEntries(items.map((i) => [i.relPath, i.channels]))
    expect(ch['classB/grey.png']).toBe(1)
    expect(ch['classB/grey_alpha.png']).toBe(2)
    expect(ch['classB/rgba.png']).toBe(4)
    expect(ch['classA/good2.jpg']).toBe(3)
    for (const it of items) {
      const { info } = await openRgb(it.absPath).raw().toBuffer({ resolveWithObject: true })
      expect(info.channels).toBe(3)
    }
    // the stored channels match what sharp reports
    for (const it of items) expect((await sharp(it.absPath).metadata()).channels).toBe(it.channels)
  })

  it('stores paths relative to the root with forward slashes', async () => {
    const c = ctx()
    const root = await plantedDataset()
    const res = await importDataset(c, { path: root })
    for (const img of datasetsRepo(c.db).images(res.dataset.id)) {
      expect(img.rel_path.startsWith('/')).toBe(false)
      expect(img.rel_path).not.toContain('\\')
      expect(statSync(join(root, img.rel_path)).isFile()).toBe(true)
    }
  })
})

describe('re-import', () => {
  it('skips unchanged files without decoding them and reports added/removed/modified', async () => {
    const c = ctx()
    const root = tempDir()
    await makeFolderDataset(root, ['a', 'b', 'c'], 3)
    const first = await importDataset(c, { path: root, name: 'mine' })
    expect(first.changes).toBeUndefined()
    const idsBefore = new Map(
      datasetsRepo(c.db)
        .images(first.dataset.id)
        .map((i) => [i.rel_path, i.id])
    )

    const again = await importDataset(c, { path: root })
    expect(again.dataset.id).toBe(first.dataset.id)
    expect(again.dataset.name).toBe('mine')
    expect(again.changes).toEqual({ added: 0, removed: 0, modified: 0, unchanged: 9 })

    // Same size and mtime but garbage content: trusted, so not decoded (proves the skip).
    const sneaky = join(root, 'a', 'img0.png')
    const st = statSync(sneaky)
    writeFileSync(sneaky, Buffer.alloc(st.size, 1))
    utimesSync(sneaky, st.atime, st.mtime)
    // A real change, an addition and a removal.
    const modified = join(root, 'b', 'img1.png')
    writeFileSync(modified, await pngBytes(1000, 20))
    put(root, 'c/new.png', await pngBytes(1001))
    rmSync(join(root, 'c', 'img2.png'))

    const third = await importDataset(c, { path: root })
    expect(third.changes).toEqual({ added: 1, removed: 1, modified: 1, unchanged: 7 })
    expect(third.problems).toEqual([])
    const after = new Map(
      datasetsRepo(c.db)
        .images(first.dataset.id)
        .map((i) => [i.rel_path, i])
    )
    expect(after.get('b/img1.png')!.id).toBe(idsBefore.get('b/img1.png'))
    expect(after.get('b/img1.png')!.width).toBe(20)
    expect(after.get('a/img0.png')!.id).toBe(idsBefore.get('a/img0.png'))
    expect(after.has('c/img2.png')).toBe(false)
    expect(listDatasets(c)).toHaveLength(1)
  })

  it('a re-import that finds a file now corrupt drops it and reports it', async () => {
    const c = ctx()
    const root = tempDir()
    await makeFolderDataset(root, ['a', 'b'], 2)
    await importDataset(c, { path: root })
    writeFileSync(
      join(root, 'a', 'img1.png'),
      readFileSync(join(root, 'a', 'img1.png')).subarray(0, 40)
    )
    const res = await importDataset(c, { path: root })
    expect(res.changes).toEqual({ added: 0, removed: 1, modified: 0, unchanged: 3 })
    expect(res.problems.map((p) => [p.kind, p.relPath])).toEqual([
      ['corrupt', 'a/img1.png'],
      ['single-image-class', 'a']
    ])
  })
})

describe('cancellation', () => {
  it('leaves no dataset behind when cancelled during validation', async () => {
    const c = ctx()
    const root = tempDir()
    await makeFolderDataset(root, ['a', 'b', 'c', 'd'], 10)
    const abort = new AbortController()
    const p = importDataset(
      c,
      { path: root },
      {
        signal: abort.signal,
        concurrency: 1,
        onProgress: (done) => {
          if (done === 5) abort.abort()
        }
      }
    )
    await expect(p).rejects.toBeInstanceOf(CancelledError)
    expect(listDatasets(c)).toEqual([])
    const n = c.db
      .prepare('SELECT (SELECT count(*) FROM classes) + (SELECT count(*) FROM images) AS n')
      .get() as { n: number }
    expect(n.n).toBe(0)
  })

  it('keeps the stored dataset intact when a re-import is cancelled', async () => {
    const c = ctx()
    const root = tempDir()
    await makeFolderDataset(root, ['a', 'b'], 5)
    const first = await importDataset(c, { path: root })
    rmSync(join(root, 'a', 'img0.png'))
    const abort = new AbortController()
    abort.abort()
    await expect(importDataset(c, { path: root }, { signal: abort.signal })).rejects.toBeInstanceOf(
      CancelledError
    )
    expect(datasetsRepo(c.db).images(first.dataset.id)).toHaveLength(10)
  })
})
