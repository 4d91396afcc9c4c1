/**
 * Oracle test: every *.json in METRICS_ORACLE_DIR (default ../shared/fixtures/metrics-oracle next
 * to the repository) holds embeddings, labels and the numbers of the official HIST evaluation
 * code (recall.py, utils.evaluate_Rstat) and scikit-learn's NMI. A new fixture file is picked up
 * without code changes.
 */
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { evaluate } from './metrics'
import { normalizedMutualInfo, type NmiAverage } from './nmi'

interface Fixture {
  embeddings: number[][]
  labels: number[]
  recall_at_k: Record<string, number>
  r_precision: number
  map_at_r: number
  nmi: { clusters: number[]; value: number; average_method: NmiAverage }
}

const here = path.dirname(fileURLToPath(import.meta.url))
const repoRoot = path.resolve(here, '..', '..', '..')
const dir =
  process.env.METRICS_ORACLE_DIR ??
  path.resolve(repoRoot, '..', 'shared', 'fixtures', 'metrics-oracle')
const files = fs.existsSync(dir)
  ? fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .sort()
  : []

describe('metrics oracle (official HIST evaluation code)', () => {
  it('finds fixture files', () => {
    expect(files.length, `no *.json fixtures in ${dir}`).toBeGreaterThan(0)
  })

  for (const file of files) {
    describe(file, () => {
      const fx = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as Fixture
      const n = fx.embeddings.length
      const d = fx.embeddings[0].length
      const emb = Float64Array.from(fx.embeddings.flat())
      const ks = Object.keys(fx.recall_at_k).map(Number)

      // The fixtures match cosine similarity on L2-normalised embeddings (not raw Euclidean).
      it('Recall@K, R-precision and MAP@R equal the official values to 1e-9', async () => {
        const r = await evaluate(emb, n, d, fx.labels, { ks, precision: 'float64' })
        for (const k of ks)
          expect(
            Math.abs(r.recall[String(k)] - fx.recall_at_k[String(k)]),
            `R@${k}`
          ).toBeLessThanOrEqual(1e-9)
        expect(Math.abs(r.rPrecision - fx.r_precision)).toBeLessThanOrEqual(1e-9)
        expect(Math.abs(r.mapAtR - fx.map_at_r)).toBeLessThanOrEqual(1e-9)
        expect(r.excludedQueries).toBe(0)
      })

      it('the float32 bulk path gives the same values', async () => {
        const r = await evaluate(emb, n, d, fx.labels, { ks, precision: 'float32' })
        for (const k of ks)
          expect(
            Math.abs(r.recall[String(k)] - fx.recall_at_k[String(k)]),
            `R@${k}`
          ).toBeLessThanOrEqual(1e-9)
        expect(Math.abs(r.rPrecision - fx.r_precision)).toBeLessThanOrEqual(1e-9)
        expect(Math.abs(r.mapAtR - fx.map_at_r)).toBeLessThanOrEqual(1e-9)
      })

      it('NMI of the fixture clustering equals the scikit-learn value to 1e-9', () => {
        const v = normalizedMutualInfo(
          fx.labels,
          fx.nmi.clusters,
          fx.nmi.average_method ?? 'geometric'
        )
        expect(Math.abs(v - fx.nmi.value)).toBeLessThanOrEqual(1e-9)
      })
    })
  }
})
