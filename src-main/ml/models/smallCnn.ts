/**
 * A small CNN trained from scratch for small images (e.g. 28–64 px Fashion-MNIST, grey as RGB):
 * five conv3×3 + BatchNorm + ReLU blocks with two 2×2 max-pools, 128 feature channels at S/4.
 * Built from raw variables (not tfjs-layers) so that init is seeded and BN freezing is explicit.
 */
import * as tf from '@tensorflow/tfjs'
import { createRng, normalArray } from '../util/rng'
import type { Backbone, BackboneSource, LayersGraph } from './backbones'
import { uniqueVariableName } from './head'

/** Output channels of each conv block; 'pool' marks a 2×2 max-pool. */
const LAYOUT: (number | 'pool')[] = [32, 32, 'pool', 64, 64, 'pool', 128]
/** BatchNorm running-average momentum and epsilon (PyTorch defaults). */
const BN_MOMENTUM = 0.1
const BN_EPS = 1e-5

interface Block {
  key: string
  kernel: tf.Variable
  gamma: tf.Variable
  beta: tf.Variable
  runMean: tf.Variable
  runVar: tf.Variable
}

/** The small from-scratch CNN; BN uses batch statistics while training unless frozen. */
export class SmallCnnBackbone implements Backbone {
  readonly name = 'small-cnn'
  readonly mean: [number, number, number] = [0.5, 0.5, 0.5]
  readonly std: [number, number, number] = [0.5, 0.5, 0.5]
  readonly featureChannels: number
  readonly trainable = true
  private bnFrozen = false
  private pristine = true
  private readonly blocks: Block[] = []

  /** Kaiming-normal (fan_out) conv kernels from `seed`; BN γ=1, β=0. */
  constructor(
    readonly inputSize: number,
    seed: number,
    private readonly origin: BackboneSource | null = null
  ) {
    if (inputSize < 16)
      throw new Error(`small-cnn needs inputs of at least 16 px, got ${inputSize}`)
    const rng = createRng(seed)
    let cin = 3
    let i = 0
    for (const item of LAYOUT) {
      if (item === 'pool') continue
      const key = `small-cnn/conv${++i}`
      const v = (name: string, t: tf.Tensor, trainable = true): tf.Variable => {
        const variable = tf.variable(t, trainable, uniqueVariableName(`${key}/${name}`))
        t.dispose()
        return variable
      }
      const std = Math.sqrt(2 / (item * 9))
      this.blocks.push({
        key,
        kernel: v('kernel', tf.tensor4d(normalArray(rng, 9 * cin * item, std), [3, 3, cin, item])),
        gamma: v('gamma', tf.ones([item])),
        beta: v('beta', tf.zeros([item])),
        runMean: v('running_mean', tf.zeros([item]), false),
        runVar: v('running_var', tf.ones([item]), false)
      })
      cin = item
    }
    this.featureChannels = cin
  }

  /** The spec for worker processes while the weights are the seeded init, else null. */
  get source(): BackboneSource | null {
    return this.pristine ? this.origin : null
  }

  apply(x: tf.Tensor4D, training: boolean): tf.Tensor4D {
    return tf.tidy(() => {
      let h = x
      let b = 0
      for (const item of LAYOUT) {
        if (item === 'pool') {
          h = tf.maxPool(h, 2, 2, 'valid') as tf.Tensor4D
          continue
        }
        const blk = this.blocks[b++]
        h = tf.conv2d(h, blk.kernel as tf.Tensor4D, 1, 'same')
        let mean: tf.Tensor
        let variance: tf.Tensor
        if (training && !this.bnFrozen) {
          const m = tf.moments(h, [0, 1, 2])
          mean = m.mean
          variance = m.variance
          this.updateRunning(blk, mean, variance, h.size / item)
        } else {
          mean = blk.runMean
          variance = blk.runVar
        }
        // Both offset and scale are passed: tfjs's batchNorm gradient breaks without an offset.
        h = tf.relu(tf.batchNorm(h, mean, variance, blk.beta, blk.gamma, BN_EPS)) as tf.Tensor4D
      }
      return h
    })
  }

  private updateRunning(blk: Block, mean: tf.Tensor, variance: tf.Tensor, n: number): void {
    // The running variance is unbiased, as in PyTorch.
    const unbiased = n > 1 ? n / (n - 1) : 1
    tf.tidy(() => {
      blk.runMean.assign(tf.add(tf.mul(blk.runMean, 1 - BN_MOMENTUM), tf.mul(mean, BN_MOMENTUM)))
      blk.runVar.assign(
        tf.add(tf.mul(blk.runVar, 1 - BN_MOMENTUM), tf.mul(variance, BN_MOMENTUM * unbiased))
      )
    })
  }

  trainableVariables(): tf.Variable[] {
    this.pristine = false
    return this.blocks.flatMap((b) => (this.bnFrozen ? [b.kernel] : [b.kernel, b.gamma, b.beta]))
  }

  setBnFrozen(frozen: boolean): void {
    this.bnFrozen = frozen
  }

  private named(): [string, tf.Variable][] {
    return this.blocks.flatMap((b) => [
      [`${b.key}/kernel`, b.kernel],
      [`${b.key}/gamma`, b.gamma],
      [`${b.key}/beta`, b.beta],
      [`${b.key}/running_mean`, b.runMean],
      [`${b.key}/running_var`, b.runVar]
    ])
  }

  getWeights(): Record<string, tf.Tensor> {
    return Object.fromEntries(this.named().map(([k, v]) => [k, tf.clone(v)]))
  }

  setWeights(w: Record<string, tf.Tensor>): void {
    const named = this.named()
    for (const [k, v] of named) {
      if (!w[k]) throw new Error(`small-cnn weights: missing '${k}'`)
      if (!tf.util.arraysEqual(w[k].shape, v.shape)) {
        throw new Error(
          `small-cnn weights: '${k}' has shape [${w[k].shape}], expected [${v.shape}]`
        )
      }
    }
    this.pristine = false
    for (const [k, v] of named) v.assign(w[k])
  }

  /** The same network in inference mode as standard layers (conv, BatchNorm, ReLU, max-pool). */
  layersGraph(): LayersGraph {
    const input = tf.input({ shape: [this.inputSize, this.inputSize, 3], name: 'image' })
    const created: tf.layers.Layer[] = []
    const add = <L extends tf.layers.Layer>(l: L): L => (created.push(l), l)
    let h: tf.SymbolicTensor = input
    let b = 0
    let p = 0
    for (const item of LAYOUT) {
      if (item === 'pool') {
        const pool = add(tf.layers.maxPooling2d({ poolSize: 2, strides: 2, name: `pool${++p}` }))
        h = pool.apply(h) as tf.SymbolicTensor
        continue
      }
      const blk = this.blocks[b++]
      const conv = add(
        tf.layers.conv2d({
          filters: item,
          kernelSize: 3,
          padding: 'same',
          useBias: false,
          name: `conv${b}`
        })
      )
      const bn = add(tf.layers.batchNormalization({ epsilon: BN_EPS, name: `conv${b}_bn` }))
      const relu = add(tf.layers.reLU({ name: `conv${b}_relu` }))
      h = relu.apply(bn.apply(conv.apply(h))) as tf.SymbolicTensor
      conv.setWeights([blk.kernel])
      bn.setWeights([blk.gamma, blk.beta, blk.runMean, blk.runVar])
    }
    return { input, features: h, created }
  }

  dispose(): void {
    for (const [, v] of this.named()) v.dispose()
  }
}
