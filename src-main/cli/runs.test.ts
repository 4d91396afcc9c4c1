import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunSummary } from '../../src-preload/contract/runs'
import { openDb } from '../db'
import { insertManyRuns } from '../runs/manyRuns.testutil'
import { spawnHist } from '../runs/smallRuns.testutil'

let dataDir: string

beforeAll(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'hist-cli-runs-'))
  const db = openDb(join(dataDir, 'hist.sqlite'))
  insertManyRuns(db, 40)
  db.close()
})
afterAll(() => rmSync(dataDir, { recursive: true, force: true }))

const names = (out: string): string[] => (JSON.parse(out) as RunSummary[]).map((r) => r.name)

describe('hist runs --sort --filter --tag', () => {
  it('sorts by a column, descending, and filters by key=value pairs and tag', async () => {
    const r = await spawnHist(dataDir, [
      'runs',
      '--sort',
      'duration',
      '--desc',
      '--filter',
      'loss=hist',
      '--filter',
      'status=completed',
      '--tag',
      'ten',
      '--json'
    ])
    expect(r.code, r.err).toBe(0)
    // loss hist: i % 4 = 0; completed: i % 5 ∈ {0, 2, 4}; tag ten: i % 10 = 0 → 0, 20 (i < 40).
    expect(names(r.out)).toEqual(['run 20', 'run 0'])
  }, 120_000)

  it('prints a table with tags, and a clear error for bad input', async () => {
    const ok = await spawnHist(dataDir, ['runs', '--sort', 'lr', '--tag', 'ten'])
    expect(ok.code, ok.err).toBe(0)
    expect(ok.out).toMatch(/run 0\b.*\[even, ten\]/)
    const none = await spawnHist(dataDir, ['runs', '--tag', 'nosuchtag'])
    expect(none.out).toMatch(/No runs match/)
    const bad = await spawnHist(dataDir, ['runs', '--filter', 'loss'])
    expect(bad.code).not.toBe(0)
    expect(bad.err).toMatch(/must be key=value/)
    const col = await spawnHist(dataDir, ['runs', '--sort', 'nope'])
    expect(col.code).not.toBe(0)
    expect(col.err).toMatch(/not a runs column/)
    expect(col.err).not.toMatch(/\n\s+at /)
  }, 120_000)
})
