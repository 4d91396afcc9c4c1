/**
 * Naive loop-by-loop plain-JS versions of each baseline loss (float64), written straight from
 * the papers / official code with no vectorisation, to test the tfjs versions against.
 * Embeddings are number[N][D]; proxies are number[C][D] (PyTorch layout).
 */

function norm(v: number[]): number[] {
  let s = 0
  for (const x of v) s += x * x
  const n = Math.max(Math.sqrt(s), 1e-12)
  return v.map((x) => x / n)
}

function dot(a: number[], b: number[]): number {
  let s = 0
  for (let i = 0; i < a.length; i++) s += a[i] * b[i]
  return s
}

/** Normalized Softmax: mean_i −log softmax(scale·cos(x_i, w_c))[y_i]. */
export function naiveNormalizedSoftmax(
  x: number[][],
  y: number[],
  proxies: number[][],
  scale: number
): number {
  let total = 0
  for (let i = 0; i < x.length; i++) {
    const xi = norm(x[i])
    const logits = proxies.map((w) => scale * dot(xi, norm(w)))
    const mx = Math.max(...logits)
    let z = 0
    for (const l of logits) z += Math.exp(l - mx)
    total += -(logits[y[i]] - mx - Math.log(z))
  }
  return total / x.length
}

/** Proxy-Anchor, proxy by proxy. */
export function naiveProxyAnchor(
  x: number[][],
  y: number[],
  proxies: number[][],
  alpha = 32,
  delta = 0.1
): number {
  const xs = x.map(norm)
  let pos = 0
  let neg = 0
  let withPos = 0
  for (let c = 0; c < proxies.length; c++) {
    const p = norm(proxies[c])
    let sp = 0
    let sn = 0
    let hasPos = false
    for (let i = 0; i < xs.length; i++) {
      const s = dot(xs[i], p)
      if (y[i] === c) {
        hasPos = true
        sp += Math.exp(-alpha * (s - delta))
      } else {
        sn += Math.exp(alpha * (s + delta))
      }
    }
    if (hasPos) {
      withPos++
      pos += Math.log(1 + sp)
    }
    neg += Math.log(1 + sn)
  }
  return pos / withPos + neg / proxies.length
}

/** Multi-Similarity with its mining, anchor by anchor (the official code's loop). */
export function naiveMultiSimilarity(
  x: number[][],
  y: number[],
  alpha = 2,
  beta = 50,
  lambda = 0.5,
  eps = 0.1
): number {
  const xs = x.map(norm)
  let total = 0
  for (let i = 0; i < xs.length; i++) {
    const pos: number[] = []
    const neg: number[] = []
    for (let j = 0; j < xs.length; j++) {
      if (j === i) continue
      const s = dot(xs[i], xs[j])
      if (y[j] === y[i]) pos.push(s)
      else neg.push(s)
    }
    if (!pos.length || !neg.length) continue
    const minPos = Math.min(...pos)
    const maxNeg = Math.max(...neg)
    const keptNeg = neg.filter((s) => s + eps > minPos)
    const keptPos = pos.filter((s) => s - eps < maxNeg)
    if (!keptNeg.length || !keptPos.length) continue
    let sp = 0
    for (const s of keptPos) sp += Math.exp(-alpha * (s - lambda))
    let sn = 0
    for (const s of keptNeg) sn += Math.exp(beta * (s - lambda))
    total += Math.log(1 + sp) / alpha + Math.log(1 + sn) / beta
  }
  return total / xs.length
}

/** Semi-hard triplet loss, pair by pair (TensorFlow Addons semantics). */
export function naiveTripletSemiHard(x: number[][], y: number[], margin: number): number {
  const xs = x.map(norm)
  const dist = (a: number[], b: number[]) => {
    let s = 0
    for (let k = 0; k < a.length; k++) s += (a[k] - b[k]) ** 2
    return Math.sqrt(Math.max(s, 1e-12))
  }
  let total = 0
  let count = 0
  for (let a = 0; a < xs.length; a++) {
    const negs: number[] = []
    for (let k = 0; k < xs.length; k++) if (y[k] !== y[a]) negs.push(dist(xs[a], xs[k]))
    if (!negs.length) continue
    for (let p = 0; p < xs.length; p++) {
      if (p === a || y[p] !== y[a]) continue
      const dap = dist(xs[a], xs[p])
      const farther = negs.filter((d) => d > dap)
      const dan = farther.length ? Math.min(...farther) : Math.max(...negs)
      total += Math.max(dap - dan + margin, 0)
      count++
    }
  }
  return count ? total / count : 0
}
