/**
 * Import problems found by the bad-input campaign (issue 13): deterministic truncation
 * reasons, the pixel limit, empty classes, which copy of a duplicate is kept, and the message
 * of an unchanged re-import.
 */
import { copyFileSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import { afterEach, describe, expect, it } from 'vitest'
import { copyOrder, looksLikeCopy } from './duplicates'
import { importDataset } from './importer'
import { getDatasetItems } from './queries'
import { jpegBytes, makeFolderDataset, pngBytes, put, tempContext, tempDir } from './datasets.testutil'
import { ensureThumbnail } from './thumbnails'
import { isTruncated } from './validate'

const ctxs: ReturnType<typeof tempContext>[] = []
function ctx(): ReturnType<typeof tempContext> {
  const c = tempContext()
  ctxs.push(c)
  return c
}
afterEach(() => {
  while (ctxs.length) ctxs.pop()!.dispose()
})

describe('truncated images', () => {
  it('names every truncated JPEG and PNG the same way however many decode at once', async () => {
    // libvips keeps its error text in a buffer shared by threads: with many bad files in
    // flight, a truncated JPEG used to get a PNG's message or "Warning treated as error".
    const c = ctx()
    const root = tempDir()
    for (let i = 0; i < 16; i++) {
      const jpg = await jpegBytes(100 + i, 64, 48)
      put(root, `a/t${i}.jpg`, jpg.subarray(0, Math.floor(jpg.length * 0.6)))
      const png = await pngBytes(200 + i, 32)
      put(root, `b/t${i}.png`, png.subarray(0, png.length - 30))
      put(root, `c/ok${i}.png`, await pngBytes(300 + i))
    }
    const res = await importDataset(c, { path: root }, { concurrency: 12 })
    const bad = res.problems.filter((p) => p.kind !== 'empty-class')
    expect(bad).toHaveLength(32)
    for (const p of bad) {
      expect(p.kind).toBe('corrupt')
      const format = p.relPath.endsWith('.jpg') ? 'JPEG' : 'PNG'
      expect(p.message).toMatch(
        new RegExp(`^cannot be decoded: the file is truncated \\(the ${format} data stops`)
      )
    }
    expect(res.dataset.imageCount).toBe(16)
  }, 120_000)

  it('reads truncation from the end marker, not from the decoder', async () => {
    const jpg = await jpegBytes(1, 32, 32)
    const png = await pngBytes(2, 16)
    expect(isTruncated(jpg, 'jpeg')).toBe(false)
    expect(isTruncated(jpg.subarray(0, jpg.length - 10), 'jpeg')).toBe(true)
    expect(isTruncated(png, 'png')).toBe(false)
    expect(isTruncated(png.subarray(0, png.length - 12), 'png')).toBe(true)
    expect(isTruncated(png, 'tiff')).toBeNull()
  })

  it('calls a complete file with bad image data damaged, not truncated', async () => {
    const c = ctx()
    const root = tempDir()
    await makeFolderDataset(root, ['ok'], 2)
    const jpg = Buffer.from(await jpegBytes(5, 64, 64))
    // Scramble the second half of the entropy-coded data but keep the end marker.
    const scrambled = Buffer.from(jpg)
    for (let i = scrambled.length >> 1; i < scrambled.length - 20; i++)
      scrambled[i] = (i * 37) & 0xff
    put(root, 'bad/scrambled.jpg', scrambled)
    // A bogus segment length in the scan header: nothing can decode it.
    const header = Buffer.from(jpg)
    const sos = header.indexOf(Buffer.from([0xff, 0xda]))
    header.fill(0xee, sos + 2, sos + 14)
    put(root, 'bad/header.jpg', header)
    const res = await importDataset(c, { path: root })
    const msg = (rel: string): string | undefined =>
      res.problems.find((p) => p.relPath === rel)?.message
    expect(msg('bad/scrambled.jpg')).toBe(
      'cannot be decoded: the JPEG file is complete but its image data is damaged'
    )
    expect(msg('bad/header.jpg')).toBe('cannot be decoded: the JPEG data is invalid')
  })
})

describe('pixel limit', () => {
  it('refuses a 16000×16000 PNG (a ~750 KB image bomb) as too-large and keeps the rest', async () => {
    const c = ctx()
    const root = tempDir()
    await makeFolderDataset(root, ['a', 'b'], 2)
    const bomb = await sharp({
      create: { width: 16000, height: 16000, channels: 3, background: '#808080' }
    })
      .png({ compressionLevel: 9 })
      .toBuffer()
    expect(bomb.length).toBeLessThan(2 * 1024 * 1024)
    put(root, 'a/bomb.png', bomb)
    const res = await importDataset(c, { path: root })
    const p = res.problems.find((x) => x.relPath === 'a/bomb.png')
    expect(p).toMatchObject({ kind: 'too-large', excluded: true })
    expect(p!.message).toMatch(/16000×16000 \(256 megapixels\), above the limit of 100 megapixels/)
    expect(p!.message).toContain('HIST_MAX_IMAGE_PIXELS')
    expect(res.dataset.imageCount).toBe(4)
  }, 120_000)

  it('takes a lower limit from the options and from HIST_MAX_IMAGE_PIXELS', async () => {
    const root = tempDir()
    put(root, 'a/small.png', await pngBytes(1, 16))
    put(root, 'a/big.png', await pngBytes(2, 64))
    put(root, 'a/small2.png', await pngBytes(4, 16))
    put(root, 'b/small.png', await pngBytes(3, 16))
    put(root, 'b/small2.png', await pngBytes(5, 16))
    const viaOption = await importDataset(ctx(), { path: root }, { maxImagePixels: 1000 })
    expect(viaOption.problems.map((p) => [p.kind, p.relPath])).toEqual([['too-large', 'a/big.png']])
    expect(viaOption.problems[0].message).toMatch(/64×64 .* above the limit of 0\.001 megapixels/)
    const before = process.env.HIST_MAX_IMAGE_PIXELS
    process.env.HIST_MAX_IMAGE_PIXELS = '1000'
    try {
      const viaEnv = await importDataset(ctx(), { path: root })
      expect(viaEnv.problems.map((p) => p.kind)).toEqual(['too-large'])
    } finally {
      if (before === undefined) delete process.env.HIST_MAX_IMAGE_PIXELS
      else process.env.HIST_MAX_IMAGE_PIXELS = before
    }
  })
})

describe('thumbnails', () => {
  it('are made through the bounded decoder (an image above the limit is refused)', async () => {
    const c = ctx()
    const root = tempDir()
    const file = put(root, 'a/big.png', await pngBytes(1, 64))
    const img = { id: 1, datasetId: 1, sha1: 'abc', absPath: file }
    const before = process.env.HIST_MAX_IMAGE_PIXELS
    process.env.HIST_MAX_IMAGE_PIXELS = '1000'
    try {
      await expect(ensureThumbnail(c, img)).rejects.toThrow(/pixel limit/)
    } finally {
      if (before === undefined) delete process.env.HIST_MAX_IMAGE_PIXELS
      else process.env.HIST_MAX_IMAGE_PIXELS = before
    }
    await expect(ensureThumbnail(c, img)).resolves.toMatch(/\.jpg$/)
  })
})

describe('classes and copies', () => {
  it('reports a class whose images were all left out as empty-class', async () => {
    const root = tempDir()
    await makeFolderDataset(root, ['a', 'b'], 2)
    put(root, 'gone/bad.png', 'not a png')
    const res = await importDataset(ctx(), { path: root })
    expect(res.problems.find((p) => p.relPath === 'gone')).toMatchObject({
      kind: 'empty-class',
      excluded: true
    })
  })

  it('keeps the original and names the dup_ file as the copy', async () => {
    const c = ctx()
    const root = tempDir()
    put(root, 'a/good1.png', await pngBytes(1))
    copyFileSync(join(root, 'a/good1.png'), join(root, 'a/dup_good1.png'))
    put(root, 'a/img2.png', await pngBytes(2))
    copyFileSync(join(root, 'a/img2.png'), join(root, 'a/img10.png'))
    put(root, 'b/x.png', await pngBytes(3))
    put(root, 'b/y.png', await pngBytes(4))
    const res = await importDataset(c, { path: root })
    const dups = res.problems.filter((p) => p.kind === 'duplicate')
    expect(dups.map((p) => p.relPath).sort()).toEqual(['a/dup_good1.png', 'a/img10.png'])
    expect(dups.find((p) => p.relPath === 'a/dup_good1.png')!.message).toMatch(
      /^same content as a\/good1\.png \(in the same class\)/
    )
    const kept = getDatasetItems(c, res.dataset.id).map((i) => i.relPath)
    expect(kept).toContain('a/good1.png')
    expect(kept).toContain('a/img2.png')
  })

  it('orders copies by name: copy-looking names last, then natural order', () => {
    for (const n of ['dup_a.png', 'a copy.png', 'Copy of a.png', 'a (1).png', 'a_copy2.jpg'])
      expect(looksLikeCopy(`x/${n}`)).toBe(true)
    for (const n of ['duplex.png', 'a.png', 'copyright.png', 'img (a).png'])
      expect(looksLikeCopy(`x/${n}`)).toBe(false)
    expect(['c/dup_a.png', 'c/a10.png', 'c/a2.png'].sort(copyOrder)).toEqual([
      'c/a2.png',
      'c/a10.png',
      'c/dup_a.png'
    ])
  })
})

describe('re-import messages', () => {
  it('says plainly when a re-import found nothing new', async () => {
    const c = ctx()
    const root = tempDir()
    await makeFolderDataset(root, ['a', 'b'], 2)
    const first = await importDataset(c, { path: root, name: 'mine' })
    expect(first.message).toBe('Imported mine: 2 classes, 4 images, 0 problems')
    const messages: string[] = []
    const again = await importDataset(
      c,
      { path: root },
      { onProgress: (_d, _t, m) => messages.push(m) }
    )
    expect(again.message).toBe(
      'Nothing changed: mine is already up to date (4 images, none added, removed or modified)'
    )
    // The import job's last progress message is what the dialog shows.
    expect(messages.at(-1)).toBe(again.message)
    put(root, 'b/new.png', await pngBytes(99))
    const third = await importDataset(c, { path: root })
    expect(third.message).toBe('Re-imported mine: 1 added, 0 removed, 0 modified, 4 unchanged')
  })
})
