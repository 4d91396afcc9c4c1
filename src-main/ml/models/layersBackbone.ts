/**
 * A backbone over a tfjs-layers LayersModel, cut at a named feature layer.
 *
 * Speed: tfjs-layers runs Conv → BatchNorm → ReLU6 as three passes, and BatchNorm alone costs
 * about as much as the conv on wasm. When BatchNorm is in inference mode (evaluation, or training
 * with frozen BN, the HIST default) we fold BN into the conv weights and bias and run one fused
 * conv (with ZeroPadding2D folded into explicit padding). On MobileNetV2 that takes the wasm
 * forward pass from ~9 to ~24 images/s per core. The fold is recomputed from the variables on
 * each call (a few ms), so it stays exact while the conv weights train, and gradients flow
 * through it to the conv kernels. With BN unfrozen and training, the plain layers graph runs.
 */
import * as tf from '@tensorflow/tfjs'
import type { BackboneSpec } from '../../../src-preload/contract/runs'
import { fusedConv } from '../kernels/fusedConv'
import type { Backbone, BackboneSource, LayersGraph } from './backbones'

type Act = 'linear' | 'relu' | 'relu6'
type FusedPad = 'same' | 'valid' | tf.backend_util.ExplicitPadding

interface ConvLayer extends tf.layers.Layer {
  kernel?: tf.LayerVariable
  depthwiseKernel?: tf.LayerVariable
  bias: tf.LayerVariable | null
  strides: [number, number]
  padding: 'same' | 'valid'
  dilationRate: [number, number]
  dataFormat: string
  activation: { getClassName(): string }
  depthMultiplier?: number
}

interface BnLayer extends tf.layers.Layer {
  gamma: tf.LayerVariable | null
  beta: tf.LayerVariable | null
  movingMean: tf.LayerVariable
  movingVariance: tf.LayerVariable
  epsilon: number
  axis: number | number[]
}

interface PadLayer extends tf.layers.Layer {
  padding: [[number, number], [number, number]]
  dataFormat: string
}

type Step =
  | {
      kind: 'fused'
      input: string
      out: string
      conv: ConvLayer
      depthwise: boolean
      bn: BnLayer | null
      act: Act
      /** Explicit padding when a ZeroPadding2D was folded in, else the conv's own padding. */
      pad: FusedPad
    }
  | { kind: 'layer'; layer: tf.layers.Layer; inputs: string[]; out: string; isBn: boolean }

interface LayerNode {
  inboundLayers: tf.layers.Layer[]
}

function inboundNames(l: tf.layers.Layer): string[] {
  const nodes = (l as unknown as { inboundNodes: LayerNode[] }).inboundNodes
  return nodes.length ? nodes[0].inboundLayers.map((x) => x.name) : []
}

function actOf(layer: tf.layers.Layer): Act | null {
  const cls = layer.getClassName()
  if (cls === 'ReLU') {
    const max = (layer as unknown as { maxValue?: number | null }).maxValue
    return max == null ? 'relu' : max === 6 ? 'relu6' : null
  }
  if (cls === 'Activation') {
    const a = (
      layer as unknown as { activation: { getClassName(): string } }
    ).activation.getClassName()
    return a === 'relu' || a === 'relu6' || a === 'linear' ? a : null
  }
  return null
}

function isLastAxis(axis: number | number[], rank: number): boolean {
  const a = Array.isArray(axis) ? axis : [axis]
  return a.length === 1 && (a[0] === -1 || a[0] === rank - 1)
}

/** Names of the layers between the input and `featureLayer`, in topological order. */
function ancestors(model: tf.LayersModel, featureLayer: string): Set<string> {
  const seen = new Set<string>()
  const stack = [featureLayer]
  while (stack.length) {
    const n = stack.pop() as string
    if (seen.has(n)) continue
    seen.add(n)
    stack.push(...inboundNames(model.getLayer(n)))
  }
  return seen
}

/**
 * Compiles the layers up to `featureLayer` into steps with Conv(+ZeroPadding)+BN(+ReLU) fused.
 * Returns null when the graph has a shape we do not handle (shared layers, several inputs).
 */
function buildPlan(model: tf.LayersModel, featureLayer: string): Step[] | null {
  if (model.inputs.length !== 1) return null
  const keep = ancestors(model, featureLayer)
  const layers = model.layers.filter((l) => keep.has(l.name))
  const consumers = new Map<string, string[]>()
  for (const l of layers) {
    if ((l as unknown as { inboundNodes: LayerNode[] }).inboundNodes.length > 1) return null
    for (const n of inboundNames(l)) consumers.set(n, [...(consumers.get(n) ?? []), l.name])
  }
  const soleConsumer = (name: string): tf.layers.Layer | null => {
    const c = consumers.get(name) ?? []
    return c.length === 1 && name !== featureLayer ? model.getLayer(c[0]) : null
  }
  const steps: Step[] = []
  const absorbed = new Set<string>()
  for (const l of layers) {
    if (absorbed.has(l.name) || l.getClassName() === 'InputLayer') continue
    const inputs = inboundNames(l)
    const cls = l.getClassName()
    let conv: ConvLayer | null = null
    let pad: FusedPad = 'valid'
    const input = inputs[0]
    if (cls === 'ZeroPadding2D') {
      const next = soleConsumer(l.name)
      const p = l as PadLayer
      if (
        next &&
        (next.getClassName() === 'Conv2D' || next.getClassName() === 'DepthwiseConv2D') &&
        (next as ConvLayer).padding === 'valid' &&
        p.dataFormat === 'channelsLast'
      ) {
        conv = next as ConvLayer
        pad = [[0, 0], p.padding[0], p.padding[1], [0, 0]]
        absorbed.add(l.name)
      }
    } else if (cls === 'Conv2D' || cls === 'DepthwiseConv2D') {
      conv = l as ConvLayer
      pad = conv.padding
    }
    if (conv && conv.dataFormat === 'channelsLast' && conv.activation.getClassName() === 'linear') {
      let out = conv.name
      let bn: BnLayer | null = null
      let act: Act = 'linear'
      const afterConv = soleConsumer(conv.name)
      if (
        afterConv &&
        afterConv.getClassName() === 'BatchNormalization' &&
        isLastAxis((afterConv as BnLayer).axis, 4)
      ) {
        bn = afterConv as BnLayer
        out = bn.name
        const afterBn = soleConsumer(bn.name)
        const a = afterBn ? actOf(afterBn) : null
        if (afterBn && a) {
          act = a
          out = afterBn.name
        }
      }
      absorbed.add(conv.name)
      if (bn) absorbed.add(bn.name)
      if (out !== conv.name && out !== bn?.name) absorbed.add(out)
      steps.push({
        kind: 'fused',
        input,
        out,
        conv,
        depthwise: conv.getClassName() === 'DepthwiseConv2D',
        bn,
        act,
        pad
      })
      continue
    }
    steps.push({ kind: 'layer', layer: l, inputs, out: l.name, isBn: cls === 'BatchNormalization' })
  }
  return steps
}

/** Metadata of a layers backbone. */
export interface LayersBackboneMeta {
  name: string
  inputSize: number
  mean: [number, number, number]
  std: [number, number, number]
  /** Where the backbone was loaded from, for worker processes to load the same one. */
  source?: { spec: BackboneSpec; modelsDir: string }
}

/** A LayersModel cut at a feature layer; trainable, with fused inference when BN is frozen. */
export class LayersBackbone implements Backbone {
  readonly name: string
  readonly inputSize: number
  readonly mean: [number, number, number]
  readonly std: [number, number, number]
  readonly featureChannels: number
  readonly trainable = true
  private bnFrozen = true
  private readonly featureModel: tf.LayersModel
  private readonly plan: Step[] | null
  private readonly pathLayers: tf.layers.Layer[]
  private readonly weightKeys: Map<string, tf.LayerVariable>
  private pristine = true
  private readonly origin: BackboneSource | null

  /** Cuts `model` at `featureLayer`; an unknown name throws listing the available layers. */
  constructor(
    private readonly model: tf.LayersModel,
    private readonly featureLayer: string,
    meta: LayersBackboneMeta
  ) {
    const names = model.layers.map((l) => l.name)
    if (!names.includes(featureLayer)) {
      throw new Error(
        `layer '${featureLayer}' not found in the model; available layers: ${names.join(', ')}`
      )
    }
    const out = model.getLayer(featureLayer).output as tf.SymbolicTensor
    if (Array.isArray(out))
      throw new Error(`layer '${featureLayer}' has several outputs; pick another layer`)
    if (out.shape.length !== 4 && out.shape.length !== 2) {
      throw new Error(
        `layer '${featureLayer}' outputs rank ${out.shape.length}; a feature map [N,h,w,C] or vector [N,C] is needed`
      )
    }
    this.name = meta.name
    this.inputSize = meta.inputSize
    this.mean = meta.mean
    this.std = meta.std
    this.origin = meta.source ? { spec: meta.source.spec, modelsDir: meta.source.modelsDir } : null
    this.featureChannels = out.shape[out.shape.length - 1] as number
    this.featureModel = tf.model({ inputs: model.inputs, outputs: out })
    this.plan = buildPlan(model, featureLayer)
    const keep = ancestors(model, featureLayer)
    this.pathLayers = model.layers.filter((l) => keep.has(l.name))
    this.weightKeys = new Map()
    for (const l of this.pathLayers) {
      for (const w of l.weights) {
        let key = w.originalName
        for (let k = 1; this.weightKeys.has(key); k++) key = `${w.originalName}_${k}`
        this.weightKeys.set(key, w)
      }
    }
  }

  /** The spec this backbone was loaded from while its weights are untouched, else null. */
  get source(): BackboneSource | null {
    return this.pristine ? this.origin : null
  }

  /** True when inference runs through the BN-folded fused plan (false: plain layers graph). */
  get fused(): boolean {
    return this.plan !== null
  }

  apply(x: tf.Tensor4D, training: boolean): tf.Tensor4D {
    return tf.tidy(() => {
      // Without a plan (unusual topology) and BN frozen, the whole graph runs in inference
      // mode; BN must not see training=true, and Dropout is the only other layer that cares.
      const y =
        this.plan && !(training && !this.bnFrozen)
          ? this.runPlan(this.plan, x, training)
          : (this.featureModel.apply(x, { training: training && !this.bnFrozen }) as tf.Tensor)
      return (
        y.rank === 2 ? tf.reshape(y, [y.shape[0], 1, 1, y.shape[1] as number]) : y
      ) as tf.Tensor4D
    })
  }

  /** The model's own layers up to the feature layer (shared, not copied), for export. */
  layersGraph(): LayersGraph {
    const input = this.featureModel.inputs[0]
    const out = this.featureModel.outputs[0]
    if (out.shape.length === 4) return { input, features: out, created: [] }
    const c = out.shape[1] as number
    const reshape = tf.layers.reshape({ targetShape: [1, 1, c], name: 'features_as_map' })
    return { input, features: reshape.apply(out) as tf.SymbolicTensor, created: [reshape] }
  }

  /** The plain tfjs-layers graph without fusion (a reference for checks and tests). */
  applyGraph(x: tf.Tensor4D, training: boolean): tf.Tensor4D {
    return tf.tidy(() => {
      const y = this.featureModel.apply(x, { training }) as tf.Tensor
      return (
        y.rank === 2 ? tf.reshape(y, [y.shape[0], 1, 1, y.shape[1] as number]) : y
      ) as tf.Tensor4D
    })
  }

  private runPlan(plan: Step[], x: tf.Tensor4D, training: boolean): tf.Tensor {
    const vals = new Map<string, tf.Tensor>()
    vals.set(this.model.inputLayers[0].name, x)
    for (const s of plan) {
      if (s.kind === 'layer') {
        const ins = s.inputs.map((n) => vals.get(n) as tf.Tensor)
        const kw = { training: s.isBn ? false : training }
        vals.set(s.out, s.layer.apply(ins.length === 1 ? ins[0] : ins, kw) as tf.Tensor)
        continue
      }
      const { filter, bias } = this.folded(s)
      const inp = vals.get(s.input) as tf.Tensor4D
      const c = s.conv
      // Explicit padding works in the fused ops at run time (computeConv2DInfo handles it);
      // only their typings say 'same' | 'valid' | number.
      const pad = s.pad as 'same'
      // While a gradient is recorded, conv + bias + relu6 stays one kernel on wasm (fusedConv).
      const out = fusedConv({
        x: inp,
        filter,
        strides: c.strides,
        pad,
        dilations: c.dilationRate,
        bias,
        activation: s.act,
        depthwise: s.depthwise,
        inputGrad: s.input !== this.model.inputLayers[0].name
      })
      vals.set(s.out, out)
    }
    return vals.get(this.featureLayer) as tf.Tensor
  }

  /** Conv weights with the (inference-mode) BatchNorm folded in. */
  private folded(s: Extract<Step, { kind: 'fused' }>): { filter: tf.Tensor4D; bias?: tf.Tensor1D } {
    const k = (s.depthwise ? s.conv.depthwiseKernel : s.conv.kernel) as tf.LayerVariable
    const kernel = k.read() as tf.Tensor4D
    const convBias = s.conv.bias ? (s.conv.bias.read() as tf.Tensor1D) : undefined
    if (!s.bn) return { filter: kernel, bias: convBias }
    const bn = s.bn
    const variance = bn.movingVariance.read() as tf.Tensor1D
    let scale = tf.rsqrt(tf.add(variance, bn.epsilon)) as tf.Tensor1D
    if (bn.gamma) scale = tf.mul(scale, bn.gamma.read()) as tf.Tensor1D
    let bias = tf.neg(tf.mul(bn.movingMean.read(), scale)) as tf.Tensor1D
    if (bn.beta) bias = tf.add(bias, bn.beta.read())
    if (convBias) bias = tf.add(bias, tf.mul(convBias, scale))
    const [, , cin, m] = kernel.shape
    const filter = s.depthwise
      ? tf.mul(kernel, tf.reshape(scale, [1, 1, cin, m]))
      : tf.mul(kernel, scale)
    return { filter: filter as tf.Tensor4D, bias }
  }

  trainableVariables(): tf.Variable[] {
    this.pristine = false
    const out: tf.Variable[] = []
    for (const l of this.pathLayers) {
      if (this.bnFrozen && l.getClassName() === 'BatchNormalization') continue
      for (const w of l.trainableWeights) out.push(w.read() as tf.Variable)
    }
    return out
  }

  setBnFrozen(frozen: boolean): void {
    this.bnFrozen = frozen
  }

  getWeights(): Record<string, tf.Tensor> {
    const out: Record<string, tf.Tensor> = {}
    for (const [k, w] of this.weightKeys) out[k] = tf.clone(w.read())
    return out
  }

  setWeights(w: Record<string, tf.Tensor>): void {
    for (const [k, v] of this.weightKeys) {
      const t = w[k]
      if (!t) throw new Error(`backbone ${this.name} weights: missing '${k}'`)
      if (!tf.util.arraysEqual(t.shape, v.shape as number[])) {
        throw new Error(
          `backbone ${this.name} weights: '${k}' has shape [${t.shape}], expected [${v.shape}]`
        )
      }
    }
    this.pristine = false
    for (const [k, v] of this.weightKeys) v.write(w[k])
  }

  dispose(): void {
    this.model.dispose()
  }
}

/** A frozen GraphModel backbone: runs the graph up to `featureNode` (its output if omitted). */
export class GraphBackbone implements Backbone {
  readonly trainable = false
  readonly featureChannels: number
  private readonly origin: BackboneSource | null

  /** `featureChannels` is measured by the caller with a probe forward pass. */
  constructor(
    private readonly model: tf.GraphModel,
    private readonly featureNode: string | undefined,
    readonly name: string,
    readonly inputSize: number,
    readonly mean: [number, number, number],
    readonly std: [number, number, number],
    source?: BackboneSource
  ) {
    this.origin = source ?? null
    const probe = this.apply(tf.zeros([1, inputSize, inputSize, 3]), false)
    this.featureChannels = probe.shape[3]
    probe.dispose()
  }

  /** Always the original weights: GraphModels are frozen. */
  get source(): BackboneSource | null {
    return this.origin
  }

  apply(x: tf.Tensor4D, _training: boolean): tf.Tensor4D {
    return tf.tidy(() => {
      const out = (
        this.featureNode ? this.model.execute(x, this.featureNode) : this.model.execute(x)
      ) as tf.Tensor | tf.Tensor[]
      const y = Array.isArray(out) ? out[0] : out
      if (y.rank === 2)
        return tf.reshape(y, [y.shape[0], 1, 1, y.shape[1] as number]) as tf.Tensor4D
      if (y.rank !== 4)
        throw new Error(
          `graph node '${this.featureNode ?? 'output'}' has rank ${y.rank}; need [N,h,w,C] or [N,C]`
        )
      return y as tf.Tensor4D
    })
  }

  trainableVariables(): tf.Variable[] {
    return []
  }

  setBnFrozen(_frozen: boolean): void {}

  getWeights(): Record<string, tf.Tensor> {
    return {}
  }

  setWeights(_w: Record<string, tf.Tensor>): void {}

  dispose(): void {
    this.model.dispose()
  }
}
