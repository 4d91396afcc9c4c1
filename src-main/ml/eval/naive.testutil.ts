/**
 * Loop-by-loop reference implementations for the tests: full sort of every query's row, metrics
 * exactly as the official HIST code computes them. Slow on purpose; never used by the app.
 */

/** Float64 L2-normalised rows (same arithmetic as l2NormalizeRows64). */
export function normalize64(emb: ArrayLike<number>, n: number, d: number): Float64Array {
  const out = new Float64Array(n * d)
  for (let i = 0; i < n; i++) {
    let ss = 0
    for (let k = 0; k < d; k++) ss += emb[i * d + k] * emb[i * d + k]
    const inv = 1 / Math.sqrt(ss + 1e-12)
    for (let k = 0; k < d; k++) out[i * d + k] = emb[i * d + k] * inv
  }
  return out
}

/** Dot product accumulated in order, as the JS engines do. */
export function dot(x: ArrayLike<number>, a: number, b: number, d: number): number {
  let s = 0
  for (let k = 0; k < d; k++) s += x[a * d + k] * x[b * d + k]
  return s
}

/** Ranked gallery positions of item q (itself excluded), best first, ties by lower position. */
export function rankedGallery(
  x: ArrayLike<number>,
  d: number,
  q: number,
  gallery: number[]
): { pos: number; sim: number }[] {
  const list = gallery
    .map((item, pos) => ({ item, pos, sim: dot(x, q, item, d) }))
    .filter((e) => e.item !== q)
  list.sort((a, b) => b.sim - a.sim || a.pos - b.pos)
  return list.map(({ pos, sim }) => ({ pos, sim }))
}

/** Naive metrics over normalised float64 rows. */
export function naiveMetrics(
  x: ArrayLike<number>,
  n: number,
  d: number,
  labels: ArrayLike<number>,
  ks: number[],
  queries?: number[],
  gallery?: number[]
): {
  recall: Record<string, number>
  rPrecision: number
  mapAtR: number
  map: number
  excluded: number
  ap: number[]
  apAtR: number[]
} {
  const qs = queries ?? Array.from({ length: n }, (_, i) => i)
  const gs = gallery ?? Array.from({ length: n }, (_, i) => i)
  const hits = ks.map(() => 0)
  let rp = 0
  let mapR = 0
  let map = 0
  let evaluated = 0
  let excluded = 0
  const apOut: number[] = []
  const apROut: number[] = []
  for (const q of qs) {
    const ranked = rankedGallery(x, d, q, gs)
    const correct = ranked.map((e) => labels[gs[e.pos]] === labels[q])
    const R = correct.filter(Boolean).length
    if (R === 0) {
      excluded++
      apOut.push(NaN)
      apROut.push(NaN)
      continue
    }
    evaluated++
    ks.forEach((k, z) => {
      if (correct.slice(0, k).some(Boolean)) hits[z]++
    })
    // As utils.evaluate_Rstat: float32 per-query R-precision, AP over the top R.
    const top = correct.slice(0, R)
    rp += Math.fround(top.filter(Boolean).length / R)
    let s = 0
    let c = 0
    top.forEach((ok, idx) => {
      if (ok) {
        c++
        s += c / (idx + 1)
      }
    })
    mapR += s / R
    apROut.push(s / R)
    let sAll = 0
    let cAll = 0
    correct.forEach((ok, idx) => {
      if (ok) {
        cAll++
        sAll += cAll / (idx + 1)
      }
    })
    map += sAll / R
    apOut.push(sAll / R)
  }
  const recall: Record<string, number> = {}
  ks.forEach((k, z) => (recall[String(k)] = hits[z] / evaluated))
  return {
    recall,
    rPrecision: rp / evaluated,
    mapAtR: mapR / evaluated,
    map: map / evaluated,
    excluded,
    ap: apOut,
    apAtR: apROut
  }
}
