/**
 * Runs-list benchmark: 1,000 synthetic runs (src-main/runs/manyRuns.testutil.ts) in a temporary
 * SQLite database; times `runs.list` (repository call + JSON encoding, as it crosses the wire)
 * unsorted, sorted by R@1, sorted by a hyperparameter (json_extract), and filtered by two
 * key=value pairs and a tag. Writes bench/results/runs-list.json: per case p50/p95/max (ms), rows.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { RunsListQuery, type RunsListQueryInput } from '../src-preload/contract/runs'
import { openDb } from '../src-main/db'
import { insertManyRuns } from '../src-main/runs/manyRuns.testutil'

const N = Number(process.env.RUNS ?? 1000)
const REPEATS = Number(process.env.REPEATS ?? 50)
const CASES: Record<string, RunsListQueryInput> = {
  default: {},
  sortR1Desc: { sort: 'r1', desc: true },
  sortLr: { sort: 'lr' },
  filterLossDatasetTag: {
    filters: [
      { key: 'loss', value: 'hist' },
      { key: 'dataset', value: 'cub' }
    ],
    tag: 'even',
    sort: 'duration'
  }
}

const q = (s: number[], p: number): number => s[Math.min(s.length - 1, Math.floor(p * s.length))]

function main(): void {
  const dir = mkdtempSync(join(tmpdir(), 'runs-list-bench-'))
  const db = openDb(join(dir, 'hist.db'))
  try {
    const repo = insertManyRuns(db, N)
    const results: Record<string, unknown> = {}
    for (const [name, input] of Object.entries(CASES)) {
      const query = RunsListQuery.parse(input)
      let rows = 0
      const times: number[] = []
      for (let i = 0; i < REPEATS + 3; i++) {
        const t = performance.now()
        const list = repo.list(query)
        JSON.stringify(list)
        const ms = performance.now() - t
        if (i >= 3) times.push(ms)
        rows = list.length
      }
      times.sort((a, b) => a - b)
      results[name] = { rows, p50Ms: q(times, 0.5), p95Ms: q(times, 0.95), maxMs: times.at(-1) }
      console.log(name.padEnd(22), `${rows} rows  p50 ${q(times, 0.5).toFixed(2)} ms`)
    }
    const out = {
      runs: N,
      repeats: REPEATS,
      cases: results,
      machine: { cpus: cpus().length, loadavg1: loadavg()[0] },
      date: new Date().toISOString()
    }
    mkdirSync('bench/results', { recursive: true })
    writeFileSync('bench/results/runs-list.json', JSON.stringify(out, null, 2) + '\n')
  } finally {
    db.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

main()
