/**
 * Where the model looks: the cosine similarity of two embeddings decomposed into contributions
 * of the spatial positions of each image's backbone feature map, as in "Visual Explanation for
 * Deep Metric Learning" (Zhu et al.), through HIST's head (GAP + GMP, Linear, LayerNorm).
 *
 * With F the [P, C] feature map (P = h·w positions), the pooled feature is
 *   p = (1/P)·Σ_s F_s  +  Σ_s mask_s ⊙ F_s,   mask_s[c] = 1 where s is channel c's argmax,
 * so the GAP part is linear in the positions and the GMP part belongs to the argmax positions.
 * z = p·W + b = Σ_s u_s with u_s = ((1/P)·F_s + mask_s ⊙ F_s)·W + b/P (the bias shared evenly).
 *
 * The LayerNorm has no scale or shift, so LN(z) = (z − mean z)/σ; the cosine similarity then
 * normalises the length, and σ cancels: ê = Cz/‖Cz‖ with C the (linear) centring. Hence the
 * decomposition is EXACT, not linearised: with v_s = C·u_s,
 *   S = ê_q·ê_r = Σ_s (v^q_s·ê_r)/‖Cz_q‖ = Σ_t (v^r_t·ê_q)/‖Cz_r‖,
 * the query map M_q[s] = v^q_s·ê_r/‖Cz_q‖ and the result map M_r[t] sum to S exactly (and the
 * point-to-point matrix v^q_s·v^r_t/(‖Cz_q‖‖Cz_r‖) sums to S too). LayerNorm's ε only rescales
 * the embedding, which the cosine ignores.
 */
import * as tf from '@tensorflow/tfjs'

/** A per-position map over an h×w grid (row-major). */
export interface PositionMap {
  h: number
  w: number
  values: Float32Array
}

/** The similarity of two images and each image's map of contributions; each map sums to it. */
export interface PairExplanation {
  similarity: number
  query: PositionMap
  result: PositionMap
}

/**
 * Centred per-position contributions v_s = C·u_s: [P, D]. Their sum over positions is the
 * centred pre-LayerNorm embedding Cz.
 * @param fm one image's feature map [h, w, C]; weight [C, D]; bias [D].
 */
export function positionContributions(
  fm: tf.Tensor3D,
  weight: tf.Tensor2D,
  bias: tf.Tensor1D
): tf.Tensor2D {
  return tf.tidy(() => {
    const [h, w, c] = fm.shape
    const p = h * w
    const f = tf.reshape(fm, [p, c]) as tf.Tensor2D
    // mask[s, c] = 1 where s is the (first) argmax of channel c: the GMP part of position s.
    const mask = tf.transpose(tf.oneHot(tf.argMax(f, 0), p)) as tf.Tensor2D
    const fp = tf.add(tf.div(f, p), tf.mul(f, mask)) as tf.Tensor2D
    const u = tf.add(tf.matMul(fp, weight), tf.div(bias, p)) as tf.Tensor2D
    return tf.sub(u, tf.mean(u, 1, true)) as tf.Tensor2D
  })
}

/** Σ_s v_s (= Cz) and its length. */
function total(v: tf.Tensor2D): { dir: tf.Tensor1D; norm: tf.Scalar } {
  const sum = tf.sum(v, 0) as tf.Tensor1D
  const norm = tf.maximum(tf.norm(sum), 1e-12) as tf.Scalar
  return { dir: tf.div(sum, norm) as tf.Tensor1D, norm }
}

function mapOf(v: tf.Tensor2D, norm: tf.Scalar, other: tf.Tensor1D): tf.Tensor1D {
  return tf.div(tf.squeeze(tf.matMul(v, tf.expandDims(other, 1))), norm) as tf.Tensor1D
}

/** Decomposes the cosine similarity of two images' embeddings over both feature maps. */
export async function explainPair(
  fmQuery: tf.Tensor3D,
  fmResult: tf.Tensor3D,
  weight: tf.Tensor2D,
  bias: tf.Tensor1D
): Promise<PairExplanation> {
  const [s, mq, mr] = tf.tidy(() => {
    const vq = positionContributions(fmQuery, weight, bias)
    const vr = positionContributions(fmResult, weight, bias)
    const q = total(vq)
    const r = total(vr)
    return [tf.sum(tf.mul(q.dir, r.dir)), mapOf(vq, q.norm, r.dir), mapOf(vr, r.norm, q.dir)]
  })
  try {
    const [sim, qv, rv] = await Promise.all([s.data(), mq.data(), mr.data()])
    return {
      similarity: sim[0],
      query: { h: fmQuery.shape[0], w: fmQuery.shape[1], values: Float32Array.from(qv) },
      result: { h: fmResult.shape[0], w: fmResult.shape[1], values: Float32Array.from(rv) }
    }
  } finally {
    tf.dispose([s, mq, mr])
  }
}

/**
 * A single image's activation map: its positions' contributions to its own embedding
 * direction, v_s·ê/‖Cz‖ (the pair decomposition with the image as its own partner; sums to 1).
 */
export async function explainSingle(
  fm: tf.Tensor3D,
  weight: tf.Tensor2D,
  bias: tf.Tensor1D
): Promise<PositionMap> {
  const m = tf.tidy(() => {
    const v = positionContributions(fm, weight, bias)
    const t = total(v)
    return mapOf(v, t.norm, t.dir)
  })
  try {
    return { h: fm.shape[0], w: fm.shape[1], values: Float32Array.from(await m.data()) }
  } finally {
    m.dispose()
  }
}
