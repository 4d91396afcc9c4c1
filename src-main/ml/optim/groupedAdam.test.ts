/** GroupedAdam against a plain-JS transcription of torch.optim.Adam / AdamW, plus exact resume. */
import * as tf from '@tensorflow/tfjs'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { closeness, randn, useBackend } from '../losses/losses.testutil'
import { GroupedAdam, stepLr } from './index'

/** torch.optim.Adam(W)'s single-tensor step for one parameter, in float64. */
function torchStep(
  p: number[],
  g: number[],
  s: { m: number[]; v: number[]; t: number },
  lr: number,
  wd: number,
  decoupled: boolean,
  b1 = 0.9,
  b2 = 0.999,
  eps = 1e-8
): void {
  s.t += 1
  const bc1 = 1 - b1 ** s.t
  const bc2 = 1 - b2 ** s.t
  for (let i = 0; i < p.length; i++) {
    let grad = g[i]
    if (decoupled) p[i] *= 1 - lr * wd
    else grad += wd * p[i]
    s.m[i] += (1 - b1) * (grad - s.m[i]) // exp_avg.lerp_(grad, 1 - beta1)
    s.v[i] = b2 * s.v[i] + (1 - b2) * grad * grad
    const denom = Math.sqrt(s.v[i]) / Math.sqrt(bc2) + eps
    p[i] -= (lr / bc1) * (s.m[i] / denom)
  }
}

let counter = 0
function makeVar(values: number[], shape: number[]): tf.Variable {
  const name = `adam-test/${counter++}`
  return tf.tidy(() => tf.variable(tf.tensor(values, shape), true, name))
}

const made: tf.Variable[] = []
afterEach(() => {
  made.forEach((v) => v.dispose())
  made.length = 0
})

for (const backend of ['wasm', 'cpu'] as const) {
  describe(`GroupedAdam on ${backend}`, () => {
    beforeAll(async () => {
      await useBackend(backend)
    })

    for (const decoupled of [false, true]) {
      for (const fused of [true, false]) {
        it(`matches torch.optim.${decoupled ? 'AdamW' : 'Adam'} over 6 steps with two groups (${fused ? 'fused kernel' : 'tfjs ops'})`, () => {
          const before = tf.memory().numTensors
          const pa = randn(12, 1)
          const pb = randn(5, 2)
          const va = makeVar(pa, [3, 4])
          const vb = makeVar(pb, [5])
          made.push(va, vb)
          const groups = [
            { name: 'a', variables: [va], lr: 0.05, weightDecay: 0.01 },
            { name: 'b', variables: [vb], lr: 0.2, weightDecay: 0.5 }
          ]
          const opt = new GroupedAdam(groups, { decoupled, fused })
          const ref = {
            a: { p: [...pa], s: { m: pa.map(() => 0), v: pa.map(() => 0), t: 0 } },
            b: { p: [...pb], s: { m: pb.map(() => 0), v: pb.map(() => 0), t: 0 } }
          }
          for (let step = 0; step < 6; step++) {
            const ga = randn(12, 100 + step).map((x) => x * 0.3)
            const gb = randn(5, 200 + step)
            if (step === 3) opt.setLr('a', 0.01)
            const lrA = opt.getLr('a')
            torchStep(ref.a.p, ga, ref.a.s, lrA, 0.01, decoupled)
            torchStep(ref.b.p, gb, ref.b.s, 0.2, 0.5, decoupled)
            const grads = { [va.name]: tf.tensor(ga, [3, 4]), [vb.name]: tf.tensor(gb, [5]) }
            opt.applyGradients(grads)
            tf.dispose(Object.values(grads))
            expect(closeness(va.dataSync(), ref.a.p, 1e-5, 1e-6)).toBeNull()
            expect(closeness(vb.dataSync(), ref.b.p, 1e-5, 1e-6)).toBeNull()
          }
          opt.dispose()
          va.dispose()
          vb.dispose()
          made.length = 0
          expect(tf.memory().numTensors).toBe(before)
        })
      }
    }

    it('skips variables without a gradient and keeps their step count', () => {
      const va = makeVar([1, 2, 3], [3])
      const vb = makeVar([4, 5], [2])
      made.push(va, vb)
      const opt = new GroupedAdam([{ name: 'all', variables: [va, vb], lr: 0.1, weightDecay: 0.1 }])
      const g = tf.tensor([1, 1, 1])
      opt.applyGradients({ [va.name]: g })
      opt.applyGradients({ [va.name]: g })
      expect(Array.from(vb.dataSync())).toEqual([4, 5])
      const st = opt.getState()
      expect(st.step).toEqual({ [va.name]: 2, [vb.name]: 0 })
      tf.dispose([g, ...Object.values(st.tensors)])
      opt.dispose()
    })

    it('getState/setState resumes bit-for-bit', () => {
      const init = randn(20, 7)
      const gradsAt = (k: number) => randn(20, 300 + k)
      const run = (v: tf.Variable, opt: GroupedAdam, from: number, to: number) => {
        for (let k = from; k < to; k++) {
          const g = tf.tensor(gradsAt(k), [4, 5])
          opt.applyGradients({ [v.name]: g })
          g.dispose()
        }
      }
      for (const decoupled of [false, true]) {
        const v1 = makeVar(init, [4, 5])
        made.push(v1)
        const opt1 = new GroupedAdam([{ name: 'g', variables: [v1], lr: 0.03, weightDecay: 0.2 }], {
          decoupled
        })
        run(v1, opt1, 0, 3)
        const state = opt1.getState()
        const weights = v1.clone()
        run(v1, opt1, 3, 7)
        // A fresh variable + optimiser restored from the checkpoint continues identically.
        const v2 = tf.variable(weights, true, v1.name + '-copy')
        made.push(v2)
        const opt2 = new GroupedAdam([{ name: 'g', variables: [v2], lr: 0.03, weightDecay: 0.2 }], {
          decoupled
        })
        const renamed = {
          step: { [v2.name]: state.step[v1.name] },
          tensors: {
            [`${v2.name}/m`]: state.tensors[`${v1.name}/m`],
            [`${v2.name}/v`]: state.tensors[`${v1.name}/v`]
          }
        }
        opt2.setState(renamed)
        tf.dispose([weights, ...Object.values(state.tensors)])
        run(v2, opt2, 3, 7)
        expect(Array.from(v2.dataSync())).toEqual(Array.from(v1.dataSync()))
        // A fresh optimiser without the state diverges, so the comparison above is meaningful.
        const v3 = makeVar(init, [4, 5])
        made.push(v3)
        const opt3 = new GroupedAdam([{ name: 'g', variables: [v3], lr: 0.03, weightDecay: 0.2 }], {
          decoupled
        })
        run(v3, opt3, 3, 7)
        expect(Array.from(v3.dataSync())).not.toEqual(Array.from(v1.dataSync()))
        opt1.dispose()
        opt2.dispose()
        opt3.dispose()
      }
    })

    it('rejects a state with a wrong shape or a missing tensor', () => {
      const v = makeVar([1, 2], [2])
      made.push(v)
      const opt = new GroupedAdam([{ name: 'g', variables: [v], lr: 0.1, weightDecay: 0 }])
      const bad = tf.zeros([3])
      expect(() =>
        opt.setState({
          step: { [v.name]: 1 },
          tensors: { [`${v.name}/m`]: bad, [`${v.name}/v`]: bad }
        })
      ).toThrow(/shape/)
      expect(() => opt.setState({ step: { [v.name]: 1 }, tensors: {} })).toThrow(/missing/)
      bad.dispose()
      opt.dispose()
    })
  })
}

describe('stepLr', () => {
  it('follows torch.optim.lr_scheduler.StepLR (0-based epochs)', () => {
    expect(stepLr(1e-4, 0, 5, 0.5)).toBe(1e-4)
    expect(stepLr(1e-4, 4, 5, 0.5)).toBe(1e-4)
    expect(stepLr(1e-4, 5, 5, 0.5)).toBe(5e-5)
    expect(stepLr(1e-4, 12, 5, 0.5)).toBeCloseTo(2.5e-5, 15)
    expect(stepLr(0.1, 29, 10, 0.1)).toBeCloseTo(0.001, 15)
  })
})
