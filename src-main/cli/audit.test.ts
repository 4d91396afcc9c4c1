/**
 * `hist audit` as a user runs it: the real bin in a child process on a data folder with a real
 * run over a dataset with planted label mistakes and train/test near copies.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AuditReport } from '../../src-preload/contract/audit'
import { closeContext, createContext } from '../app/context'
import { spawnHist } from '../runs/smallRuns.testutil'
import { PLANTED_LEAKS, PLANTED_MISLABELS, plantedRun } from '../services/auditPlanted.testutil'

let dir: string
let dataDir: string
let runId: number

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hist-cli-audit-'))
  dataDir = join(dir, 'data')
  const ctx = createContext(dataDir, 'cli')
  try {
    ;({ runId } = await plantedRun(ctx, join(dir, 'images')))
  } finally {
    closeContext(ctx)
  }
}, 300_000)
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('hist audit', () => {
  it('prints both lists as JSON, planted mistakes and leaks on top', async () => {
    const r = await spawnHist(dataDir, [
      'audit',
      '--run',
      String(runId),
      '--k',
      '8',
      '--threshold',
      '0.995',
      '--limit',
      '10',
      '--json'
    ])
    expect(r.code, r.err).toBe(0)
    const report = JSON.parse(r.out) as AuditReport
    expect(report).toMatchObject({ runId, k: 8, threshold: 0.995, leakTotal: 2 })
    expect(report.mislabels).toHaveLength(10)
    const ranked = report.mislabels.map((c) => c.image.relPath)
    for (const p of PLANTED_MISLABELS) expect(ranked).toContain(p)
    expect(report.duplicates.map((p) => p.b.relPath).sort()).toEqual(
      PLANTED_LEAKS.map(([, copy]) => copy).sort()
    )
    // Progress went to stderr, not into the JSON.
    expect(r.err).toMatch(/Comparing the images/)
    // 21 % of the images are flagged: the report says the list is only as good as the model.
    expect(report.testRecall1).toBeGreaterThan(0)
    expect(report.caution).toMatch(/only as good as the model: it flags \d+ of 98 images/)
  }, 120_000)

  it('prints a readable report', async () => {
    const r = await spawnHist(dataDir, ['audit', '--run', String(runId), '--threshold', '0.995'])
    expect(r.code, r.err).toBe(0)
    expect(r.out).toMatch(/Label-mistake candidates: \d+/)
    expect(r.out).toMatch(/\nNote: This list is only as good as the model: it flags \d+ of 98/)
    expect(r.out).toMatch(
      /B__tshirt\/moved-sneaker-\d\.png .*filed as "B__tshirt", neighbours say "B__sneaker"/
    )
    expect(r.out).toMatch(/Near duplicates: 2 pairs with similarity ≥ 0.995, 2 across train\/test/)
    expect(r.out).toMatch(
      /LEAK +A__trouser\/0\.png \(#\d+, train\) +~ +B__tshirt\/copied-trouser-0\.png/
    )
  }, 120_000)

  it('exits 2 with one line for bad options and unknown runs', async () => {
    for (const args of [
      ['--run', String(runId), '--k', '0'],
      ['--run', String(runId), '--k', 'many'],
      ['--run', String(runId), '--threshold', '1.5'],
      ['--run', '9999']
    ]) {
      const r = await spawnHist(dataDir, ['audit', ...args])
      expect(r.code, `${args.join(' ')}: ${r.err}`).toBe(2)
      expect(r.err.trim().split('\n'), args.join(' ')).toHaveLength(1)
      expect(r.err).not.toMatch(/\n\s+at /)
    }
    const unknown = await spawnHist(dataDir, ['audit', '--run', '9999'])
    expect(unknown.err).toMatch(/no run with id 9999/)
    const missing = await spawnHist(dataDir, ['audit'])
    expect(missing.code).not.toBe(0)
    expect(missing.err).toMatch(/--run/)
  }, 120_000)
})
