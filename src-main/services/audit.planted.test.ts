/**
 * The audit end to end on planted mistakes: a real run (frozen small CNN on Fashion-MNIST
 * images), the real whole-dataset embeddings (retrieval/datasetEmbeddings), and the planted
 * label mistakes and train/test copies at the top of the two lists.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { closeContext, createContext, type AppContext } from '../app/context'
import { createAuditService } from './audit'
import { atEdge } from './services.testutil'
import { PLANTED_LEAKS, PLANTED_MISLABELS, plantedRun } from './auditPlanted.testutil'

let dir: string
let ctx: AppContext
let runId: number

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hist-audit-planted-'))
  ctx = createContext(join(dir, 'data'), 'cli')
  ;({ runId } = await plantedRun(ctx, join(dir, 'images')))
}, 300_000)
afterAll(() => {
  closeContext(ctx)
  rmSync(dir, { recursive: true, force: true })
})

describe('audit of a dataset with planted mistakes', () => {
  it('ranks the planted label mistakes at the top and names the class they belong to', async () => {
    const r = await atEdge('audit', createAuditService(ctx)).report({
      runId,
      k: 8,
      threshold: 0.995
    })
    expect(r.images).toBe(4 * 24 + 2)
    // A cheap model also doubts a few odd real images (bags that look like shirts): the planted
    // five must all be among the first ten of 98, the first one planted.
    const ranked = r.mislabels.map((c) => c.image.relPath)
    expect(PLANTED_MISLABELS).toContain(ranked[0])
    for (const p of PLANTED_MISLABELS) expect(ranked.indexOf(p), p).toBeGreaterThanOrEqual(0)
    for (const p of PLANTED_MISLABELS) expect(ranked.indexOf(p), p).toBeLessThan(10)
    for (const c of r.mislabels.filter((x) => PLANTED_MISLABELS.includes(x.image.relPath))) {
      const truth = c.image.relPath.includes('sneaker') ? 'B__sneaker' : 'A__trouser'
      expect(c.dominantClassName).toBe(truth)
      expect(c.image.className).toBe('B__tshirt')
      expect(c.score).toBeGreaterThan(0.8)
      expect(c.neighbours).toHaveLength(8)
    }
  })

  it('finds the planted train/test copies as leaks at the top of the duplicates', async () => {
    const r = await atEdge('audit', createAuditService(ctx)).report({
      runId,
      k: 8,
      threshold: 0.995
    })
    const pairs = r.duplicates.map((p) => [p.a.relPath, p.b.relPath].sort().join(' ~ '))
    const leaks = r.duplicates.filter((p) => p.leak)
    expect(leaks).toHaveLength(PLANTED_LEAKS.length)
    expect(r.duplicateTotal).toBe(PLANTED_LEAKS.length)
    expect(r.leakTotal).toBe(PLANTED_LEAKS.length)
    for (const [a, b] of PLANTED_LEAKS)
      expect(pairs.slice(0, 2)).toContain([a, b].sort().join(' ~ '))
    for (const p of leaks) {
      expect(p.similarity).toBeGreaterThan(0.9999)
      expect(new Set([p.a.split, p.b.split])).toEqual(new Set(['train', 'test']))
      expect(p.sameClass).toBe(false)
    }
  })
})
