import { afterEach, describe, expect, it } from 'vitest'
import { getEngine, l2NormalizeRows, nativeSimEngine, resetEngines } from './engine'
import { mulberry32 } from '../util/rng'
import { knn } from './knn'
import { evaluate, RetrievalIndex } from './metrics'
import { loadNativeKernel, resetNativeKernel } from './native'
import { countCols, countRow, positionsByLabel, sortPositives } from './rank'

const native = nativeSimEngine()
if (!native)
  console.warn(`native kernel unavailable, its tests are skipped: ${loadNativeKernel().detail}`)

function randn(n: number, seed: number, levels = 0): Float32Array {
  const rand = mulberry32(seed)
  return Float32Array.from({ length: n }, () =>
    levels ? Math.round((rand() - 0.5) * levels) : rand() - 0.5
  )
}

describe('native kernel', () => {
  afterEach(() => {
    delete process.env.HIST_EVAL_NATIVE
    resetNativeKernel()
    resetEngines()
  })

  it('falls back to pure JS when disabled', () => {
    process.env.HIST_EVAL_NATIVE = '0'
    resetNativeKernel()
    resetEngines()
    expect(loadNativeKernel()).toMatchObject({
      kernel: null,
      detail: expect.stringMatching(/disabled/)
    })
    expect(getEngine('float32').name).toBe('js-f32')
    expect(() => getEngine('float32', 'native')).toThrow(/not available/)
  })

  it('never compiles: a missing addon means the fallback, with the reason', () => {
    process.env.HIST_EVAL_NATIVE_ADDON = '/nonexistent/simkernel.node'
    try {
      resetNativeKernel()
      expect(loadNativeKernel()).toEqual({
        kernel: null,
        detail: expect.stringMatching(/not built \(npm run build:native/),
        source: null
      })
    } finally {
      delete process.env.HIST_EVAL_NATIVE_ADDON
    }
  })

  it.skipIf(!native)('computes each similarity identically whatever the block shape', () => {
    for (const d of [512, 13]) {
      const na = 11
      const nb = 23
      const a = l2NormalizeRows(randn(na * d, 1), na, d)
      const b = l2NormalizeRows(randn(nb * d, 2), nb, d)
      const full = new Float32Array(na * nb)
      native!.sims(a, na, b, nb, d, full)
      const js = new Float32Array(na * nb)
      getEngine('float32', 'js').sims(a, na, b, nb, d, js)
      for (let t = 0; t < full.length; t++) expect(full[t]).toBeCloseTo(js[t], 5)
      const one = new Float32Array(1)
      for (let i = 0; i < na; i++) {
        for (let j = 0; j < nb; j++) {
          native!.sims(a.subarray(i * d, (i + 1) * d), 1, b.subarray(j * d, (j + 1) * d), 1, d, one)
          expect(one[0]).toBe(full[i * nb + j])
        }
      }
      const part = new Float32Array(3 * 7)
      native!.sims(a.subarray(2 * d, 5 * d), 3, b.subarray(9 * d, 16 * d), 7, d, part)
      for (let i = 0; i < 3; i++)
        for (let j = 0; j < 7; j++) expect(part[i * 7 + j]).toBe(full[(i + 2) * nb + j + 9])
    }
  })

  it.skipIf(!native)('counts exactly like the JS loops, ties included', () => {
    const n = 90
    const d = 4
    const x = l2NormalizeRows(randn(n * d, 3, 3), n, d)
    const rand = mulberry32(4)
    const lab = Int32Array.from({ length: n }, () => Math.floor(rand() * 12))
    const s = new Float32Array(n * n)
    native!.sims(x, n, x, n, d, s)
    const byLabel = positionsByLabel(lab)
    const off = new Int32Array(n + 1)
    for (let i = 0; i < n; i++) off[i + 1] = off[i] + byLabel.get(lab[i])!.length - 1
    const ps = new Float32Array(off[n])
    const pp = new Int32Array(off[n])
    for (let i = 0; i < n; i++) {
      let P = 0
      for (const j of byLabel.get(lab[i])!) {
        if (j === i) continue
        ps[off[i] + P] = s[i * n + j]
        pp[off[i] + P] = j
        P++
      }
      sortPositives(ps, pp, off[i], P)
    }
    // Rows 20..49 against columns 20..89: row pass, then column pass for queries 50..89.
    const i0 = 20
    const nr = 30
    const w = n - i0
    const block = new Float32Array(nr * w)
    for (let r = 0; r < nr; r++)
      for (let c = 0; c < w; c++) block[r * w + c] = s[(i0 + r) * n + i0 + c]
    const cJs = new Int32Array(off[n])
    const cNat = new Int32Array(off[n])
    for (let r = 0; r < nr; r++) {
      const q = i0 + r
      const P = off[q + 1] - off[q]
      if (P > 0) countRow(block, r * w, w, i0, lab, lab[q], ps, pp, off[q], P, cJs)
    }
    countCols(block, nr, w, i0, i0, nr, lab, off, ps, pp, cJs)
    native!.countBlock!(
      block,
      nr,
      w,
      i0,
      lab,
      lab.subarray(i0, i0 + nr),
      off.subarray(i0, i0 + nr + 1),
      ps,
      pp,
      cNat
    )
    native!.countBlockT!(block, nr, w, i0, i0, nr, lab, off, ps, pp, cNat)
    expect(Array.from(cNat)).toEqual(Array.from(cJs))
    expect(cJs.reduce((a, b) => a + b, 0)).toBeGreaterThan(0)
  })

  it.skipIf(!native)(
    'gives the same evaluation as the JS float32 engine on tie-free data',
    async () => {
      const n = 400
      const d = 32
      const x = randn(n * d, 5)
      const labels = Int32Array.from({ length: n }, (_, i) => i % 37)
      const a = await evaluate(x, n, d, labels, {
        precision: 'float32',
        engine: 'native',
        ks: [1, 3, 30]
      })
      const b = await evaluate(x, n, d, labels, {
        precision: 'float32',
        engine: 'js',
        ks: [1, 3, 30]
      })
      expect(a.engine).toMatch(/^native/)
      expect(b.engine).toBe('js-f32')
      expect(a.recall).toEqual(b.recall)
      expect(a.mapAtR).toBeCloseTo(b.mapAtR, 12)
    }
  )

  it.skipIf(!native)(
    'the half-precision search prefilter returns exactly the full-scan result',
    () => {
      const n = 3000
      const d = 64
      const rand = mulberry32(6)
      const centres = randn(40 * d, 7)
      const x = new Float32Array(n * d)
      for (let i = 0; i < n; i++)
        for (let k = 0; k < d; k++) x[i * d + k] = centres[(i % 40) * d + k] + 0.05 * (rand() - 0.5)
      // Exact duplicates make exact ties at the k-th place.
      for (let i = 0; i < 30; i++) x.copyWithin((2000 + i) * d, i * d, (i + 1) * d)
      const fast = new RetrievalIndex(x, n, d)
      const slow = new RetrievalIndex(x, n, d, { prefilter: false })
      expect(fast.engineName).toMatch(/prefilter/)
      expect(slow.engineName).not.toMatch(/prefilter/)
      for (let t = 0; t < 40; t++) {
        const q = Math.floor(rand() * n)
        const v = x.slice(q * d, (q + 1) * d)
        for (const k of [1, 10, 77]) {
          const exclude = t % 3 === 0 ? [q, 2000 + (q % 30)] : undefined
          expect(fast.search(v, k, exclude)).toEqual(slow.search(v, k, exclude))
          expect(fast.lastSearchScored).toBeLessThan(n / 8)
        }
      }
    }
  )
})

describe('the fallbacks of the native kernel', () => {
  it.skipIf(!native)(
    'give the same top-k ids and scores (within 1e-5): native, TensorFlow.js (wasm), plain JS',
    async () => {
      const tf = await import('@tensorflow/tfjs')
      await import('@tensorflow/tfjs-backend-wasm')
      await tf.setBackend('wasm')
      await tf.ready()
      const [ng, nq, d, k] = [2000, 25, 128, 20]
      const rand = mulberry32(11)
      // Clustered, so that neighbours are well separated from the rest.
      const centres = randn(50 * d, 12)
      const g = new Float32Array(ng * d)
      for (let i = 0; i < ng; i++)
        for (let c = 0; c < d; c++) g[i * d + c] = centres[(i % 50) * d + c] + 0.3 * (rand() - 0.5)
      const gallery = l2NormalizeRows(g, ng, d)
      const queries = gallery.slice(0, nq * d)
      const results = (['native', 'tfjs', 'js'] as const).map((engine) =>
        knn(queries, nq, gallery, ng, d, k, { engine, excludeSelf: true })
      )
      const [nat, ...fallbacks] = results
      for (const fb of fallbacks) {
        expect(Array.from(fb.indices)).toEqual(Array.from(nat.indices))
        for (let t = 0; t < nat.sims.length; t++)
          expect(Math.abs(fb.sims[t] - nat.sims[t])).toBeLessThanOrEqual(1e-5)
      }
    },
    60_000
  )
})
