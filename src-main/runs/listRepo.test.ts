import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  RunsListQuery,
  runsSchemas,
  type RunsListQueryInput
} from '../../src-preload/contract/runs'
import { openDb, type Db } from '../db'
import { insertManyRuns } from './manyRuns.testutil'
import type { RunsRepo } from './repo'

const N = 1000
let dir: string
let db: Db
let repo: RunsRepo

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'runs-list-'))
  db = openDb(join(dir, 'hist.db'))
  repo = insertManyRuns(db, N)
})
afterAll(() => {
  db.close()
  rmSync(dir, { recursive: true, force: true })
})

const list = (q: RunsListQueryInput) => repo.list(RunsListQuery.parse(q))
// Run i has name `run i`.
const index = (name: string): number => Number(name.split(' ')[1])

describe('runs list over 1,000 runs: sorting and filtering in SQL', () => {
  it('lists every run, newest first, by default', () => {
    const all = repo.list(RunsListQuery.parse({}))
    expect(all).toHaveLength(N)
    expect(all[0].id).toBeGreaterThan(all[1].id)
    expect(all.every((r) => Array.isArray(r.tags) && r.note === '')).toBe(true)
  })

  it('sorts by R@1 both ways with runs without metrics last', () => {
    const asc = list({ sort: 'r1' })
    const desc = list({ sort: 'r1', desc: true })
    const completed = asc.filter((r) => r.testMetrics)
    expect(completed).toHaveLength(600)
    expect(asc.slice(0, 600).map((r) => r.testMetrics?.recall['1'])).toEqual(
      [...completed.map((r) => r.testMetrics!.recall['1'])].sort((a, b) => a - b)
    )
    expect(asc.slice(600).every((r) => r.testMetrics === null)).toBe(true)
    expect(desc[0].testMetrics?.recall['1']).toBe(index('run 999') / N - 0)
    expect(desc.slice(600).every((r) => r.testMetrics === null)).toBe(true)
  })

  it('sorts by a hyperparameter numerically, then by duration', () => {
    const byLr = list({ sort: 'lr', desc: true }).map((r) => r.config.lr)
    expect(byLr).toEqual([...byLr].sort((a, b) => b - a))
    expect(byLr[0]).toBeCloseTo(1e-3)
    const byDuration = list({ sort: 'duration' }).map((r) => index(r.name))
    expect(byDuration.slice(0, 5)).toEqual([0, 1, 2, 3, 4])
  })

  it('sorts by dataset, loss, status and backbone as text', () => {
    for (const [key, get] of [
      ['dataset', (r) => r.datasetName],
      ['loss', (r) => r.config.loss],
      ['status', (r) => r.status],
      ['backbone', (r) => r.config.backbone.kind]
    ] as const satisfies readonly (readonly [
      string,
      (r: import('../../src-preload/contract/runs').RunSummary) => string
    ])[]) {
      const values = list({ sort: key }).map(get)
      expect(values).toEqual([...values].sort())
    }
  })

  it('filters by key=value pairs (all must hold) and by tag', () => {
    const hist = list({ filters: [{ key: 'loss', value: 'hist' }] })
    expect(hist).toHaveLength(250)
    const both = list({
      filters: [
        { key: 'loss', value: 'hist' },
        { key: 'dataset', value: 'CUB' },
        { key: 'batchSize', value: '16' }
      ]
    })
    // i % 4 = 0 and i % 3 = 0: i % 12 = 0, 84 values below 1000.
    expect(both).toHaveLength(84)
    expect(both.every((r) => index(r.name) % 12 === 0)).toBe(true)
    const lr = list({ filters: [{ key: 'lr', value: '0.0003' }] })
    expect(lr).toHaveLength(100)
    expect(list({ filters: [{ key: 'frozen', value: 'true' }] })).toHaveLength(N)
    expect(list({ filters: [{ key: 'status', value: 'failed' }] })).toHaveLength(200)
    const ten = list({ tag: 'ten', sort: 'duration', desc: true })
    expect(ten.map((r) => index(r.name)).slice(0, 3)).toEqual([990, 980, 970])
    expect(ten).toHaveLength(100)
  })

  it('rejects unknown columns and injection attempts in the contract', () => {
    expect(runsSchemas.list.safeParse({ sort: 'lr; DROP TABLE runs' }).success).toBe(false)
    expect(runsSchemas.list.safeParse({ filters: [{ key: 'nope', value: '1' }] }).success).toBe(
      false
    )
    expect(list({ filters: [{ key: 'dataset', value: "x' OR '1'='1" }] })).toHaveLength(0)
  })

  it('annotates a run with tags and a note, and keeps the other field', () => {
    const id = list({ sort: 'id' })[0].id
    repo.annotate(id, { tags: ['baseline', 'best'] })
    const r = repo.annotate(id, { note: 'lr too high' })
    expect(r.tags).toEqual(['baseline', 'best'])
    expect(r.note).toBe('lr too high')
    expect(list({ tag: 'baseline' }).map((x) => x.id)).toEqual([id])
    expect(() => repo.annotate(999999, { note: 'x' })).toThrow(/not found/)
    const bad = runsSchemas.annotate.safeParse({ id, tags: ['a', 'a'] })
    expect(bad.success).toBe(false)
  })
})
