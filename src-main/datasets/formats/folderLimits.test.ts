/** A folder that is not a dataset (like /etc) is refused, and the walk is bounded. */
import { symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { importDataset } from '../importer'
import { listDatasets } from '../queries'
import { makeFolderDataset, pngBytes, put, tempContext, tempDir } from '../datasets.testutil'
import { DEFAULT_WALK_LIMITS, readFolderListing } from './folder'

const ctxs: ReturnType<typeof tempContext>[] = []
function ctx(): ReturnType<typeof tempContext> {
  const c = tempContext()
  ctxs.push(c)
  return c
}
afterEach(() => {
  while (ctxs.length) ctxs.pop()!.dispose()
})

/** A folder shaped like /etc: sub-folders of configuration files, no images. */
function etcLike(): string {
  const root = tempDir()
  for (const d of ['apt', 'ssh', 'systemd/system', 'X11']) {
    for (let i = 0; i < 5; i++) put(root, `${d}/file${i}.conf`, `key${i}=value\n`)
  }
  put(root, 'hostname', 'box\n')
  put(root, 'passwd', 'root:x:0:0:root:/root:/bin/bash\n')
  return root
}

describe('a folder without class folders of images', () => {
  it('is refused like an empty folder, and nothing is stored', async () => {
    const c = ctx()
    const root = etcLike()
    await expect(importDataset(c, { path: root })).rejects.toMatchObject({
      code: 'invalid_payload',
      message: expect.stringMatching(
        /^no images in the class folders of .* \(4 sub-folder\(s\), 20 other file\(s\)\): a folder dataset needs one sub-folder per class/
      )
    })
    expect(listDatasets(c)).toEqual([])
    const n = c.db.prepare('SELECT count(*) AS n FROM problems').get() as { n: number }
    expect(n.n).toBe(0)
  })

  it('still imports a dataset that has some non-image files', async () => {
    const root = tempDir()
    await makeFolderDataset(root, ['a', 'b'], 2)
    put(root, 'a/notes.txt', 'hello')
    const res = await importDataset(ctx(), { path: root })
    expect(res.dataset.imageCount).toBe(4)
    expect(res.problems.map((p) => p.kind)).toEqual(['unsupported'])
  })
})

describe('bounded walking', () => {
  it('stops past the entry limit with a clear message', async () => {
    const root = tempDir()
    for (let i = 0; i < 30; i++) put(root, `c${i % 3}/f${i}.png`, await pngBytes(i))
    await expect(readFolderListing(root, undefined, { maxEntries: 20 })).rejects.toThrow(
      /^stopped reading .*: more than 20 files and folders\. This does not look like a dataset folder.*Nothing was imported\.$/
    )
    await expect(readFolderListing(root, undefined, { maxEntries: 40 })).resolves.toMatchObject({
      images: expect.any(Array)
    })
  })

  it('stops past the depth limit, naming the folder', async () => {
    const root = tempDir()
    put(root, 'a/1/2/3/img.png', await pngBytes(1))
    put(root, 'b/img.png', await pngBytes(2))
    await expect(readFolderListing(root, undefined, { maxDepth: 3 })).rejects.toThrow(
      /folders nested more than 3 levels deep \(a\/1\/2\/3\)/
    )
    const ok = await readFolderListing(root, undefined, { maxDepth: 4 })
    expect(ok.images.map((i) => i.relPath)).toEqual(['a/1/2/3/img.png', 'b/img.png'])
  })

  it('does not follow a symlink loop', async () => {
    const root = tempDir()
    await makeFolderDataset(root, ['a', 'b'], 2)
    symlinkSync(join(root, 'a'), join(root, 'a', 'loop'))
    const l = await readFolderListing(root)
    expect(l.images).toHaveLength(4)
  })

  it('has limits far above real datasets', () => {
    expect(DEFAULT_WALK_LIMITS.maxEntries).toBeGreaterThanOrEqual(1_000_000)
    expect(DEFAULT_WALK_LIMITS.maxDepth).toBeGreaterThanOrEqual(8)
  })
})
