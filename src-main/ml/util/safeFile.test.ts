import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { loadBackbone } from '../models/backbones'
import { FileProblemError, readJsonSafely } from './safeFile'

const dir = mkdtempSync(join(tmpdir(), 'hist-safefile-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const SECRET = 'root:x:0:0:root:/root:/bin/bash\nsecret-token-123\n'

/** The error a call throws (fails the test when it does not throw). */
async function errorOf(fn: () => unknown): Promise<Error> {
  try {
    await fn()
  } catch (err) {
    return err as Error
  }
  throw new Error('expected an error')
}

describe('errors about local files never quote their content', () => {
  it('a local backbone whose modelPath is a passwd-like file names the file and the problem', async () => {
    const file = join(dir, 'passwd')
    writeFileSync(file, SECRET)
    const err = await errorOf(() =>
      loadBackbone(
        { kind: 'local', modelPath: file, featureNode: 'x' },
        { modelsDir: join(dir, 'models') }
      )
    )
    expect(err.message).toContain(file)
    expect(err.message).toMatch(/not valid JSON/)
    expect(err.message).not.toMatch(/root:x|secret-token/)
    expect(err.stack ?? '').not.toMatch(/root:x|secret-token/)
  })

  it('/etc/passwd itself, when the machine has one', async () => {
    const err = await errorOf(() =>
      loadBackbone(
        { kind: 'local', modelPath: '/etc/passwd', featureNode: 'x' },
        { modelsDir: join(dir, 'models') }
      )
    )
    expect(err.message).toContain('/etc/passwd')
    expect(err.message).not.toMatch(/root:x:0:0/)
  })

  it('names missing files, folders, unreadable and oversized files', () => {
    const missing = (() => {
      try {
        readJsonSafely(join(dir, 'nope.json'), 'a model.json')
      } catch (err) {
        return err
      }
    })() as FileProblemError
    expect(missing).toBeInstanceOf(FileProblemError)
    expect(missing.message).toMatch(/nope\.json: does not exist/)
    mkdirSync(join(dir, 'folder.json'))
    expect(() => readJsonSafely(join(dir, 'folder.json'), 'x')).toThrow(/is a folder/)
    const big = join(dir, 'big.json')
    writeFileSync(big, `"${'a'.repeat(200)}${SECRET}"`)
    expect(() => readJsonSafely(big, 'x', 100)).toThrow(/too large/)
    const locked = join(dir, 'locked.json')
    writeFileSync(locked, SECRET)
    chmodSync(locked, 0o000)
    let lockedErr: Error | null = null
    try {
      readJsonSafely(locked, 'x')
    } catch (err) {
      lockedErr = err as Error
    }
    // Root may read anything; either way the content is never in the message.
    expect(lockedErr?.message ?? '').not.toMatch(/root:x|secret/)
  })
})
