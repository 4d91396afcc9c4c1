import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { makeFolderDataset, pngBytes, put } from '../datasets/datasets.testutil'
import { formatImport, parseSplitGroups } from './datasets'

const dirs: string[] = []
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})
function temp(): string {
  const d = mkdtempSync(join(tmpdir(), 'hist-cli-'))
  dirs.push(d)
  return d
}

/** Runs the real `hist` entry point in-process (one module load instead of a process per call). */
async function hist(
  args: string[],
  dataDir: string
): Promise<{ code: number; out: string; err: string }> {
  const { main } = await import('../cli')
  let out = ''
  let err = ''
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => {
    out += String(c)
    return true
  })
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => {
    err += String(c)
    return true
  })
  try {
    const code = await main(['node', 'hist', '--data-dir', dataDir, ...args])
    return { code, out, err }
  } finally {
    o.mockRestore()
    e.mockRestore()
  }
}

describe('hist import / datasets', () => {
  it('imports with --split-groups --json, lists datasets, and exits 2 on bad input', async () => {
    const dataDir = temp()
    const root = temp()
    await makeFolderDataset(root, ['Greek__a', 'Greek__b', 'Latin__a', 'Korean__a'], 2)
    put(root, 'Latin__a/broken.png', 'nope')
    put(root, 'Korean__a/more.png', await pngBytes(999))
    const ok = await hist(
      ['import', root, '--split-groups', 'Greek:Latin,Korean', '--json', '--name', 'tiny'],
      dataDir
    )
    const missing = await hist(['import', join(root, 'nope')], temp())
    const badFormat = await hist(['import', root, '--format', 'zip'], temp())
    const badSplit = await hist(['import', root, '--split-groups', 'Greek'], temp())
    const unknownGroup = await hist(['import', root, '--split-groups', 'Greek:Klingon'], temp())
    expect(ok.code, ok.err).toBe(0)
    const res = JSON.parse(ok.out)
    expect(res.dataset).toMatchObject({ name: 'tiny', classCount: 4, imageCount: 9 })
    expect(res.dataset.splits).toEqual([
      { name: 'train', classCount: 2, imageCount: 4 },
      { name: 'test', classCount: 2, imageCount: 5 }
    ])
    expect(res.groups).toEqual(['Greek', 'Korean', 'Latin'])
    expect(res.problems).toEqual([
      expect.objectContaining({ kind: 'corrupt', relPath: 'Latin__a/broken.png' })
    ])
    expect(missing.code).toBe(2)
    expect(missing.err).toMatch(/no such file or folder/)
    expect(badFormat.code).toBe(2)
    expect(badFormat.err).toMatch(/unknown format "zip"/)
    expect(badSplit.code).toBe(2)
    expect(badSplit.err).toMatch(/--split-groups must look like/)
    expect(unknownGroup.code).toBe(2)
    expect(unknownGroup.err).toMatch(/unknown group\(s\): Klingon/)

    const list = await hist(['datasets', '--json'], dataDir)
    expect(list.code).toBe(0)
    expect(JSON.parse(list.out).map((d: { name: string }) => d.name)).toEqual(['tiny'])
  })

  it('exits 2 with a clear message for a folder without images (like /etc), storing nothing', async () => {
    const dataDir = temp()
    const root = temp()
    put(root, 'apt/sources.list', 'deb http://example.org stable main\n')
    put(root, 'ssh/sshd_config', 'Port 22\n')
    put(root, 'passwd', 'root:x:0:0:root:/root:/bin/bash\n')
    const res = await hist(['import', root], dataDir)
    expect(res.code).toBe(2)
    expect(res.err).toMatch(/no images in the class folders of .*nothing was imported/)
    const list = await hist(['datasets', '--json'], dataDir)
    expect(JSON.parse(list.out)).toEqual([])
    const bad = await hist(['import', root, '--max-image-pixels', 'lots'], temp())
    expect(bad.code).toBe(2)
    expect(bad.err).toMatch(/--max-image-pixels must be a positive pixel count/)
  })

  it('parses --split-groups and formats a readable summary with problem reasons', () => {
    expect(parseSplitGroups('A, B:C')).toEqual({ kind: 'group', train: ['A', 'B'], test: ['C'] })
    expect(() => parseSplitGroups('A:')).toThrow(/must look like/)
    const text = formatImport(
      {
        dataset: {
          id: 3,
          name: 'x',
          root: '/d',
          format: 'folder',
          classCount: 2,
          imageCount: 5,
          problemCount: 1,
          splits: [],
          createdAt: '',
          rootExists: true,
          builtIn: false
        },
        problems: [
          { kind: 'zero-byte', relPath: 'a/e.png', message: 'empty file (0 bytes)', excluded: true }
        ],
        changes: { added: 1, removed: 0, modified: 0, unchanged: 4 },
        message: 'Re-imported x: 1 added, 0 removed, 0 modified, 4 unchanged'
      },
      []
    )
    expect(text).toContain('dataset 3 "x" (folder)')
    expect(text).toContain('changes: 1 added, 0 removed, 0 modified, 4 unchanged')
    expect(text).toMatch(/zero-byte\s+a\/e\.png: empty file \(0 bytes\) \[excluded\]/)
  })
})
