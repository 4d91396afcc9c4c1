/**
 * The bad-input corpus as a test: every case of ./cases gets its named error through the web
 * API (src-main/server over the real services) or the `hist` CLI, and at the end nothing that
 * was stored before (database rows, files in the data folder, the baseline dataset's files)
 * has changed.
 */
import { createHash } from 'node:crypto'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type { ImportResult } from '../../src-preload/contract'
import { closeContext, createContext, type AppContext } from '../app/context'
import { importDataset } from '../datasets/importer'
import { startServer, type RunningServer } from '../server'
import { createMediaSource } from '../server/mediaSource'
import { createServices, type AppServices } from '../services/index'
import { CASES, type Auth, type CorpusCase } from './cases'
import { generateCorpus } from './generate'

const TOKEN = 'c0rpus-t0ken-0123456789abcdef'
let corpus: string
let dataDir: string
let scratchDir: string
let ctx: AppContext
let services: AppServices
let server: RunningServer
let baselineId: number
let before: Snapshot

type Snapshot = { tables: Record<string, unknown[]>; files: Record<string, string> }

/** Every table's rows (stored counts left out: reads may fill that cache) and every file's hash. */
function snapshot(): Snapshot {
  const tables: Record<string, unknown[]> = {}
  const names = ctx.db
    .prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`)
    .all() as { name: string }[]
  for (const { name } of names) {
    const rows = ctx.db.prepare(`SELECT * FROM "${name}"`).all() as Record<string, unknown>[]
    tables[name] = rows
      .map(({ counts_json: _c, ...row }) => JSON.stringify(row))
      .sort()
      .map((r) => JSON.parse(r) as unknown)
  }
  const files: Record<string, string> = {}
  const walk = (root: string, prefix: string): void => {
    for (const e of readdirSync(root, { withFileTypes: true })) {
      const p = join(root, e.name)
      if (e.isDirectory()) walk(p, `${prefix}${e.name}/`)
      else if (!/\.(db|sqlite3?)(-wal|-shm|-journal)?$/.test(e.name))
        files[`${prefix}${e.name}`] = createHash('sha1').update(readFileSync(p)).digest('hex')
    }
  }
  walk(dataDir, 'data/')
  walk(join(corpus, 'baseline'), 'baseline/')
  return { tables, files }
}

/** Replaces {corpus} and {baseline} in a case's input. */
function fill(text: string): string {
  return text
    .replaceAll('"{baseline}"', String(baselineId))
    .replaceAll('{baseline}', String(baselineId))
    .replaceAll('{corpus}', corpus)
    .replaceAll('"__INFINITY__"', '1e999')
}

function authHeaders(auth: Auth = 'bearer'): Record<string, string> {
  const h: Record<string, string> = { host: `127.0.0.1:${server.port}` }
  if (auth === 'bearer' || auth === 'foreign-origin' || auth === 'foreign-host')
    h.authorization = `Bearer ${TOKEN}`
  if (auth === 'wrong-token') h.authorization = 'Bearer not-the-token'
  if (auth === 'foreign-origin') h.origin = 'http://evil.example'
  if (auth === 'foreign-host') h.host = 'evil.example'
  return h
}

function send(
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port: server.port, method, path, headers, setHost: false },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () =>
          resolve({ status: res.statusCode!, text: Buffer.concat(chunks).toString('utf8') })
        )
      }
    )
    // A refused upload closes the connection early; the answer has arrived by then.
    req.on('error', (err) =>
      (err as NodeJS.ErrnoException).code === 'EPIPE' ? undefined : reject(err)
    )
    if (body !== undefined) req.write(body)
    req.end()
  })
}

/** Runs the real `hist` entry point in-process; returns its exit code and output. */
async function hist(args: string[]): Promise<{ code: number; out: string; err: string }> {
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
    return { code: await main(['node', 'hist', ...args]), out, err }
  } finally {
    o.mockRestore()
    e.mockRestore()
  }
}

beforeAll(async () => {
  corpus = mkdtempSync(join(tmpdir(), 'hist-corpus-'))
  dataDir = mkdtempSync(join(tmpdir(), 'hist-corpus-data-'))
  scratchDir = mkdtempSync(join(tmpdir(), 'hist-corpus-scratch-'))
  await generateCorpus(corpus)
  ctx = createContext(dataDir, 'web')
  services = createServices(ctx)
  baselineId = (await importDataset(ctx, { path: join(corpus, 'baseline'), name: 'baseline' }))
    .dataset.id
  server = await startServer({
    services,
    events: ctx.events,
    media: createMediaSource(ctx),
    staticDir: null,
    token: TOKEN
  })
  before = snapshot()
}, 300_000)

afterAll(async () => {
  await server?.close()
  await services?.dispose()
  if (ctx) closeContext(ctx)
  for (const d of [corpus, dataDir, scratchDir]) if (d) rmSync(d, { recursive: true, force: true })
})

const byKind = <K extends CorpusCase['kind']>(k: K): Extract<CorpusCase, { kind: K }>[] =>
  CASES.filter((c): c is Extract<CorpusCase, { kind: K }> => c.kind === k)

describe('the bad-input corpus', () => {
  it('has at least 30 cases covering every area, each with a unique id', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(30)
    expect(new Set(CASES.map((c) => c.id)).size).toBe(CASES.length)
    expect(new Set(CASES.map((c) => c.area))).toEqual(
      new Set(['images', 'lists', 'hyperparameters', 'ids', 'media', 'tokens', 'payloads'])
    )
    expect(readdirSync(join(corpus, 'cases'))).toHaveLength(CASES.length)
  })

  for (const c of byKind('api')) {
    it(`${c.id}: ${c.channel} answers ${c.expect.status} ${c.expect.code}`, async () => {
      const body = c.raw ?? fill(JSON.stringify(c.body ?? {}))
      const res = await send('POST', `/api/${c.channel}`, authHeaders(c.auth), body)
      expect(res.status, res.text).toBe(c.expect.status)
      const { error } = JSON.parse(res.text) as {
        error: { code: string; message: string; issues?: { path: string }[] }
      }
      expect(error.code).toBe(c.expect.code)
      expect(error.message).toContain(fill(c.expect.fragment))
      if (c.expect.field) expect(error.issues?.map((i) => i.path)).toContain(c.expect.field)
      // Expected errors never leak a stack trace or file content.
      expect(error.message).not.toMatch(/\n\s+at |root:x:0:0/)
    })
  }

  for (const c of byKind('http')) {
    it(`${c.id}: ${c.method} ${c.path} answers ${c.expect.status}`, async () => {
      const res = await send(c.method, fill(c.path), { ...authHeaders(c.auth), ...c.headers })
      expect(res.status, res.text).toBe(c.expect.status)
      expect(res.text).toContain(c.expect.fragment)
    })
  }

  for (const c of byKind('cli-import')) {
    it(`${c.id}: hist import exits ${c.expect.exit} naming the problem`, async () => {
      const res = await hist(['--data-dir', dataDir, 'import', fill(c.path)])
      expect(res.code, res.err + res.out).toBe(c.expect.exit)
      expect(res.err).toContain(c.expect.fragment)
      expect(res.err).not.toMatch(/\n\s+at /)
    }, 60_000)
  }

  const sources = [...new Set(byKind('import-problem').map((c) => c.source))]
  for (const source of sources) {
    const cases = byKind('import-problem').filter((c) => c.source === source)
    it(`names every planted problem of ${source.replace('{corpus}/', '')} (${cases.map((c) => c.id).join(', ')})`, async () => {
      // Into a scratch data folder: these imports succeed (with problems) by design.
      const res = await hist(['--data-dir', scratchDir, 'import', fill(source), '--json'])
      expect(res.code, res.err).toBe(0)
      const result = JSON.parse(res.out) as ImportResult
      for (const c of cases) {
        const p = result.problems.find((x) => x.relPath === c.relPath)
        expect(p, `${c.id}: no problem for ${c.relPath}`).toBeDefined()
        expect(p!.kind, c.id).toBe(c.expect.problem)
        expect(p!.message, c.id).toContain(c.expect.fragment)
      }
      expect(result.dataset.imageCount).toBeGreaterThan(0)
    }, 180_000)
  }

  it('left everything stored before unchanged (database rows, data folder, baseline files)', () => {
    expect(snapshot()).toEqual(before)
    expect(before.tables.images.length).toBe(9)
  })
})
