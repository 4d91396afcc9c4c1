/**
 * `hist sweep`, `hist ablation` and `hist results` end to end on a small real dataset (16
 * Omniglot characters of two alphabets), with real trainer processes: frozen small-CNN
 * features and one epoch keep each run to seconds. What is tested is that every value becomes a
 * run through the normal queue with that value in its config, the JSON names each value with its
 * run id and metrics, the experiment is stored, and bad input exits 2 with a clear message.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { closeContext, createContext } from '../app/context'
import { RunsRepo } from '../runs/repo'
import { ExperimentsRepo } from '../experiments/repo'

const here = dirname(fileURLToPath(import.meta.url))
const OMNIGLOT = resolve(here, '..', '..', '..', 'shared', 'datasets', 'omniglot-background-small')

let dataDir: string
let root: string

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
    const code = await main(['node', 'hist', '--data-dir', dataDir, ...args])
    return { code, out, err }
  } finally {
    o.mockRestore()
    e.mockRestore()
  }
}

const SMALL = ['--backbone', 'small-cnn', '--epochs', '1', '--batch-size', '16', '--seed', '3']

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'hist-sweep-'))
  root = mkdtempSync(join(tmpdir(), 'hist-sweep-ds-'))
  const classes = readdirSync(OMNIGLOT).sort()
  for (const alphabet of ['Greek', 'Latin'])
    for (const c of classes.filter((n) => n.startsWith(`${alphabet}__`)).slice(0, 8)) {
      mkdirSync(join(root, c), { recursive: true })
      for (const f of readdirSync(join(OMNIGLOT, c)))
        copyFileSync(join(OMNIGLOT, c, f), join(root, c, f))
    }
  const imp = await hist(['import', root, '--split-groups', 'Greek:Latin', '--json'])
  expect(imp.code, imp.err).toBe(0)
}, 120_000)

afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true })
  rmSync(root, { recursive: true, force: true })
})

describe('hist sweep / ablation / results', () => {
  it('refuses bad sweep input with exit code 2 and a message naming the problem', async () => {
    const cases: [string[], RegExp][] = [
      [['--param', 'gamma', '--values', '1,2'], /--param: "gamma" cannot be swept/],
      [['--param', 'tau', '--values', '4,x'], /--values: value 2 "x" is not a number/],
      [['--param', 'tau', '--values', '4:64'], /a range is start:stop:step/],
      [
        ['--param', 'tau', '--values', '4,8', '--param2', 'alpha'],
        /--param2 and --values2 go together/
      ],
      [['--param', 'tau', '--values', '4,8', '--param2', 'tau', '--values2', '1'], /must differ/]
    ]
    for (const [args, re] of cases) {
      const r = await hist(['sweep', '--dataset', '1', ...args])
      expect(r.code, args.join(' ')).toBe(2)
      expect(r.err, args.join(' ')).toMatch(re)
    }
    const bad = await hist(['ablation', '--dataset', '1', '--variants', 'hist,arcface'])
    expect(bad.code).toBe(2)
    expect(bad.err).toMatch(/"arcface" is not one of/)
  })

  it('a 4-value τ sweep queues one frozen run per value and prints each value with its run id and metrics', async () => {
    const r = await hist([
      'sweep',
      '--dataset',
      '1',
      '--param',
      'tau',
      '--values',
      '4:32:x2',
      ...SMALL,
      '--json'
    ])
    expect(r.code, r.err).toBe(0)
    expect(r.err).toMatch(/Frozen mode \(the default for experiments\)/)
    const res = JSON.parse(r.out)
    expect(res).toMatchObject({
      kind: 'sweep',
      status: 'completed',
      axes: [{ param: 'tau', values: [4, 8, 16, 32] }]
    })
    expect(res.points.map((p: { values: { tau: number } }) => p.values.tau)).toEqual([4, 8, 16, 32])
    const ctx = createContext(dataDir, 'cli')
    try {
      const runs = new RunsRepo(ctx.db)
      for (const p of res.points) {
        expect(p.status).toBe('completed')
        expect(p.testMetrics.recall['1']).toBeGreaterThan(0)
        expect(p.baselineMetrics.mapAtR).toBeGreaterThan(0)
        const run = runs.get(p.runId)
        expect(run.config).toMatchObject({ tau: p.values.tau, frozen: true, epochs: 1 })
      }
      expect(new Set(res.points.map((p: { runId: number }) => p.runId)).size).toBe(4)
      const stored = new ExperimentsRepo(ctx.db)
      expect(stored.get(res.experimentId)).toMatchObject({ kind: 'sweep', datasetId: 1 })
      expect(stored.points(res.experimentId).map((p) => p.runId)).toEqual(
        res.points.map((p: { runId: number }) => p.runId)
      )
    } finally {
      closeContext(ctx)
    }
  }, 600_000)

  it('the ablation switches train end to end, and `hist results` tables the best run of each method', async () => {
    const r = await hist([
      'ablation',
      '--dataset',
      '1',
      '--variants',
      'hist-ce-only,hist-graph,normalized-softmax',
      ...SMALL,
      '--json'
    ])
    expect(r.code, r.err).toBe(0)
    const res = JSON.parse(r.out)
    expect(res.points.map((p: { variant: string }) => p.variant)).toEqual([
      'hist-ce-only',
      'hist-graph',
      'normalized-softmax'
    ])
    for (const p of res.points) expect(p.testMetrics.recall['1']).toBeGreaterThan(0)
    const md = await hist(['results', '--dataset', '1'])
    expect(md.code, md.err).toBe(0)
    // full HIST (best of the 4 sweep runs), CE only, plain graph, Normalized Softmax
    for (const m of [
      '| HIST |',
      '| HIST (CE only) |',
      '| HIST (plain graph) |',
      '| Normalized Softmax |'
    ])
      expect(md.out).toContain(m)
    const csv = await hist(['results', '--dataset', '1', '--format', 'csv'])
    expect(csv.out.split('\r\n')[0]).toBe(
      'method,run_id,backbone,embedding_size,frozen,R@1,R@2,R@4,R@8,R-Prec,MAP@R,NMI'
    )
    const bad = await hist(['results', '--dataset', '1', '--format', 'docx'])
    expect(bad.code).toBe(2)
    // A bad id is a usage error; id 0 passes the option check and is refused at the edge
    // (the dispatch's schema), like every CLI call.
    const nan = await hist(['results', '--dataset', 'abc'])
    expect(nan.code).toBe(2)
    expect(nan.err).toMatch(/--dataset must be a dataset id/)
    const zero = await hist(['results', '--dataset', '0'])
    expect(zero.code).toBe(2)
    expect(zero.err).toMatch(/experiments\.resultsTable: invalid payload: datasetId/)
  }, 600_000)
})
