import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Worker } from 'node:worker_threads'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { builtCandidates, resolveWorkerEntry, startWorker, type WorkerFile } from './workers'

const FILE: WorkerFile = {
  name: 'echoWorker',
  source: './echo.ts',
  envVar: 'HIST_TEST_ECHO_WORKER'
}

let root: string
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'hist-workers-'))
  fs.mkdirSync(path.join(root, 'chunks'))
  // Like the app's package.json: .ts/.js files here are ES modules.
  fs.writeFileSync(path.join(root, 'package.json'), '{ "type": "module" }')
})
afterEach(() => {
  delete process.env[FILE.envVar]
  fs.rmSync(root, { recursive: true, force: true })
})

const url = (...parts: string[]): string => pathToFileURL(path.join(root, ...parts)).href
const touch = (...parts: string[]): string => {
  const p = path.join(root, ...parts)
  fs.writeFileSync(p, '')
  return p
}

/** The first message of a worker, then it is terminated. */
async function firstMessage(w: Worker): Promise<unknown> {
  try {
    return await new Promise((resolve, reject) => {
      w.once('message', resolve)
      w.once('error', reject)
    })
  } finally {
    await w.terminate()
  }
}

describe('resolveWorkerEntry', () => {
  it('takes the TypeScript source beside a .ts caller', () => {
    const src = touch('echo.ts')
    expect(resolveWorkerEntry(FILE, url('caller.ts'), {})).toEqual({
      kind: 'typescript',
      file: src
    })
  })

  it('names the missing TypeScript source and the env var', () => {
    expect(() => resolveWorkerEntry(FILE, url('caller.ts'), {})).toThrow(
      `looked for ${path.join(root, 'echo.ts')}; set HIST_TEST_ECHO_WORKER`
    )
  })

  it('takes the built entry next to a .js chunk before the one a folder up', () => {
    const up = touch('echoWorker.js')
    expect(resolveWorkerEntry(FILE, url('chunks', 'caller.js'), {})).toEqual({
      kind: 'built',
      file: up
    })
    const near = touch('chunks', 'echoWorker.js')
    expect(resolveWorkerEntry(FILE, url('chunks', 'caller.js'), {})).toEqual({
      kind: 'built',
      file: near
    })
  })

  it('also finds a .mjs entry, after every .js one', () => {
    const mjs = touch('chunks', 'echoWorker.mjs')
    expect(resolveWorkerEntry(FILE, url('chunks', 'caller.js'), {}).file).toBe(mjs)
    const js = touch('echoWorker.js')
    expect(resolveWorkerEntry(FILE, url('chunks', 'caller.js'), {}).file).toBe(js)
  })

  it('names every path looked at and the env var when no built entry exists', () => {
    const caller = url('chunks', 'caller.js')
    const candidates = builtCandidates('echoWorker', caller)
    expect(candidates).toEqual([
      path.join(root, 'chunks', 'echoWorker.js'),
      path.join(root, 'echoWorker.js'),
      path.join(root, 'chunks', 'echoWorker.mjs'),
      path.join(root, 'echoWorker.mjs')
    ])
    let message = ''
    try {
      resolveWorkerEntry(FILE, caller, {})
    } catch (err) {
      message = (err as Error).message
    }
    expect(message).toMatch(/^echoWorker\.js not found next to /)
    for (const c of candidates) expect(message).toContain(c)
    expect(message).toContain('set HIST_TEST_ECHO_WORKER')
  })

  it('lets the env var override both the source and the built entry', () => {
    touch('echo.ts')
    touch('chunks', 'echoWorker.js')
    const other = touch('elsewhere.js')
    const env = { HIST_TEST_ECHO_WORKER: other }
    expect(resolveWorkerEntry(FILE, url('caller.ts'), env)).toEqual({
      kind: 'override',
      file: other
    })
    expect(resolveWorkerEntry(FILE, url('chunks', 'caller.js'), env)).toEqual({
      kind: 'override',
      file: other
    })
  })

  it('rejects an override that names no file', () => {
    const missing = path.join(root, 'nope.js')
    expect(() =>
      resolveWorkerEntry(FILE, url('caller.ts'), { HIST_TEST_ECHO_WORKER: missing })
    ).toThrow(`HIST_TEST_ECHO_WORKER names a worker file that does not exist: ${missing}`)
  })
})

describe('startWorker', () => {
  const echoJs = `import { parentPort, workerData } from 'node:worker_threads'\nparentPort.postMessage({ kind: 'js', workerData })\n`
  const echoTs = `import { parentPort, workerData } from 'node:worker_threads'\nconst kind: string = 'ts'\nparentPort!.postMessage({ kind, workerData })\n`

  it('runs a built .mjs entry a folder up with its workerData', async () => {
    fs.writeFileSync(path.join(root, 'echoWorker.mjs'), echoJs)
    const w = startWorker(FILE, url('chunks', 'caller.js'), { n: 7 })
    expect(await firstMessage(w)).toEqual({ kind: 'js', workerData: { n: 7 } })
  })

  it('runs the TypeScript source through tsx for a .ts caller', async () => {
    fs.writeFileSync(path.join(root, 'echo.ts'), echoTs)
    const w = startWorker(FILE, url('caller.ts'), [1, 2])
    expect(await firstMessage(w)).toEqual({ kind: 'ts', workerData: [1, 2] })
  })

  it('runs the file the env var names', async () => {
    const file = path.join(root, 'other.mjs')
    fs.writeFileSync(file, echoJs)
    process.env[FILE.envVar] = file
    const w = startWorker(FILE, url('caller.ts'))
    expect(await firstMessage(w)).toEqual({ kind: 'js', workerData: undefined })
  })

  it('throws before starting anything when the file is missing', () => {
    expect(() => startWorker(FILE, url('chunks', 'caller.js'))).toThrow(/echoWorker\.js not found/)
  })
})
