import { readFileSync, rmSync, statSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { importDataset } from './importer'
import { resolveMedia } from './media'
import { datasetsRepo } from './repo'
import { jpegBytes, pngBytes, put, tempContext, tempDir } from './datasets.testutil'

let c: ReturnType<typeof tempContext>
let root: string
let outside: string
let datasetId: number
const ids: Record<string, number> = {}

beforeAll(async () => {
  c = tempContext()
  root = tempDir()
  outside = tempDir()
  put(root, 'classA/big.jpg', await jpegBytes(1, 300, 200))
  put(root, 'classA/small.png', await pngBytes(2, 40))
  put(root, 'classA/café_ü.png', await pngBytes(3))
  put(root, 'classA/escapes.png', await pngBytes(4))
  put(root, 'classB/x.png', await pngBytes(5))
  put(root, 'classB/y.png', await pngBytes(6))
  put(root, 'classB/100%25 sure.png', await pngBytes(8))
  put(root, 'classB/corrupt.png', 'not an image')
  put(outside, 'secret.png', await pngBytes(7))
  const res = await importDataset(c, { path: root })
  datasetId = res.dataset.id
  for (const img of datasetsRepo(c.db).images(datasetId)) ids[img.rel_path] = img.id
  // After import, a registered file is swapped for a symlink that leaves the root.
  rmSync(join(root, 'classA', 'escapes.png'))
  symlinkSync(join(outside, 'secret.png'), join(root, 'classA', 'escapes.png'))
})

afterAll(() => c.dispose())

describe('resolveMedia', () => {
  it('serves a registered image by id and by URL-encoded path (non-ASCII, encoded slash)', async () => {
    const byId = await resolveMedia(c, `image/${ids['classA/big.jpg']}`)
    expect(byId).toEqual({
      ok: true,
      filePath: join(root, 'classA', 'big.jpg'),
      contentType: 'image/jpeg'
    })
    const leading = await resolveMedia(c, `/media/image/${ids['classA/big.jpg']}?v=1`)
    expect(leading.ok).toBe(true)
    const enc = await resolveMedia(
      c,
      `file/${datasetId}/${encodeURIComponent('classA/café_ü.png')}`
    )
    expect(enc).toMatchObject({ ok: true, contentType: 'image/png' })
    const segs = await resolveMedia(
      c,
      `file/${datasetId}/classA/${encodeURIComponent('café_ü.png')}`
    )
    expect(segs).toMatchObject({ ok: true, filePath: join(root, 'classA', 'café_ü.png') })
  })

  it('serves a file whose name holds a literal %25 (encoded once in the URL)', async () => {
    const url = `file/${datasetId}/classB/${encodeURIComponent('100%25 sure.png')}`
    expect(url).toContain('100%2525%20sure.png')
    expect(await resolveMedia(c, url)).toMatchObject({
      ok: true,
      filePath: join(root, 'classB', '100%25 sure.png')
    })
    // The name encoded too little means "100% sure.png", which is not registered.
    expect(await resolveMedia(c, `file/${datasetId}/classB/100%25%20sure.png`)).toMatchObject({
      ok: false,
      status: 404
    })
  })

  it('makes a thumbnail lazily, caches it, and serves small images as their own thumbnail', async () => {
    const id = ids['classA/big.jpg']
    const t1 = await resolveMedia(c, `thumb/${id}`)
    if (!t1.ok) throw new Error(t1.message)
    expect(t1.contentType).toBe('image/jpeg')
    expect(t1.filePath.startsWith(c.paths.thumbnails)).toBe(true)
    const meta = await sharp(t1.filePath).metadata()
    expect([meta.width, meta.height]).toEqual([128, 85])
    const m1 = statSync(t1.filePath).mtimeMs
    const t2 = await resolveMedia(c, `thumb/${id}`)
    expect(t2).toEqual(t1)
    expect(statSync(t1.filePath).mtimeMs).toBe(m1)
    const small = await resolveMedia(c, `thumb/${ids['classA/small.png']}`)
    expect(small).toEqual({
      ok: true,
      filePath: join(root, 'classA', 'small.png'),
      contentType: 'image/png'
    })
  })

  const traversal: [string, number][] = [
    ['file/DS/../../etc/passwd', 403],
    ['file/DS/classA/../../../etc/passwd', 403],
    ['file/DS/%2e%2e/%2e%2e/etc/passwd', 403],
    ['file/DS/..%2f..%2f..%2fetc%2fpasswd', 403],
    ['file/DS/%2E%2E%2F%2E%2E%2Fsecret.png', 403],
    ['file/DS/%252e%252e%252f%252e%252e%252fetc%252fpasswd', 403],
    ['file/DS/%2fetc%2fpasswd', 403],
    ['file/DS//etc/passwd', 403],
    ['file/DS/C:/Windows/win.ini', 403],
    ['file/DS/C%3A%5CWindows%5Cwin.ini', 400],
    ['file/DS/classA\\..\\..\\secret.png', 400],
    ['file/DS/classA%5c..%5c..%5csecret.png', 400],
    ['file/DS/classA/big.jpg%00.png', 400],
    ['file/DS/classA/big.jpg\0.png', 400],
    ['file/DS/%E0%A4%A', 400],
    ['file/DS/./classA/big.jpg', 403]
  ]
  for (const [url, status] of traversal) {
    it(`refuses ${JSON.stringify(url)} with ${status}`, async () => {
      const r = await resolveMedia(c, url.replace('DS', String(datasetId)))
      expect(r).toMatchObject({ ok: false, status })
    })
  }

  it('refuses a registered file whose symlink now points outside the root (realpath check)', async () => {
    for (const kind of ['image', 'thumb']) {
      const r = await resolveMedia(c, `${kind}/${ids['classA/escapes.png']}`)
      expect(r).toMatchObject({ ok: false, status: 403 })
    }
    const byPath = await resolveMedia(c, `file/${datasetId}/classA/escapes.png`)
    expect(byPath).toMatchObject({ ok: false, status: 403 })
  })

  it('serves only registered images: problem files, other files and unknown ids are 404', async () => {
    expect(await resolveMedia(c, `file/${datasetId}/classB/corrupt.png`)).toMatchObject({
      ok: false,
      status: 404
    })
    expect(await resolveMedia(c, `file/${datasetId + 100}/classA/big.jpg`)).toMatchObject({
      ok: false,
      status: 404
    })
    expect(await resolveMedia(c, 'image/999999')).toMatchObject({ ok: false, status: 404 })
  })

  it('refuses malformed ids and kinds with 400', async () => {
    for (const url of [
      'image/abc',
      'image/0',
      'image/-1',
      'image/1.5',
      'image//etc/passwd',
      'thumb/',
      'other/1',
      'file/x/a.png',
      'file/1'
    ]) {
      expect(await resolveMedia(c, url)).toMatchObject({ ok: false, status: 400 })
    }
  })

  it('never returns a file outside the dataset roots or the thumbnail cache', async () => {
    const secret = readFileSync(join(outside, 'secret.png'))
    for (const [url] of traversal) {
      const r = await resolveMedia(c, url.replace('DS', String(datasetId)))
      if (r.ok) expect(readFileSync(r.filePath).equals(secret)).toBe(false)
    }
  })
})
