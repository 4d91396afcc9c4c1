/**
 * Conv2D / depthwise conv + bias + relu6 that stays ONE fused kernel while a gradient is being
 * recorded. tfjs's fused ops have no relu6 gradient, so under a tape they run as three kernels
 * (conv, bias Add, Relu6) and the backward pass adds the bias gradient as a transposing Sum:
 * on MobileNetV2 that is 34 of its 52 convolutions. Here the forward is wasm's FusedConv2D /
 * FusedDepthwiseConv2D, and the gradient takes relu6's mask from the saved output and the bias
 * gradient in one SIMD pass (relu6BiasGrad), then the conv backprops (./convGradients.ts on
 * wasm). wasm only, while the SIMD kernels are on; everywhere else (and for other activations,
 * dilations or channel counts) it is exactly tf.fused.conv2d / depthwiseConv2d.
 *
 * The mask is 0 < relu6(x) < 6, i.e. 0 < x < 6: it differs from tfjs's (0 < x ≤ 6) only at
 * x = 6 exactly (PyTorch's hardtanh backward uses the open interval too).
 */
import * as tf from '@tensorflow/tfjs'
import { activeSimdKernels, heapOffset, registerWasmKernel } from './wasmSimd'

const RELU6_BIAS_GRAD = 'HistStudioRelu6BiasGrad'

/** Registers the one-pass relu6 + bias gradient kernel for wasm (idempotent). */
export function registerFusedConvKernels(): void {
  registerWasmKernel(RELU6_BIAS_GRAD, (k, b, { y, dy }) => {
    const c = y.shape[y.shape.length - 1]
    const rows = y.shape.reduce((p, q) => p * q, 1) / c
    const out = b.makeOutput(y.shape, 'float32')
    const db = b.makeOutput([c], 'float32')
    k.relu6BiasGrad(
      heapOffset(b, y),
      heapOffset(b, dy),
      heapOffset(b, out),
      heapOffset(b, db),
      rows,
      c * 4
    )
    return [out, db]
  })
}

/** The arguments of tf.fused.conv2d / depthwiseConv2d that this module uses. */
export interface FusedConvArgs {
  x: tf.Tensor4D
  filter: tf.Tensor4D
  bias?: tf.Tensor1D
  strides: [number, number]
  pad: 'same' | 'valid' | tf.backend_util.ExplicitPadding
  dilations: [number, number]
  activation: 'linear' | 'relu' | 'relu6'
  depthwise: boolean
  /** False when no gradient w.r.t. x is needed (the network's input): the plain path then. */
  inputGrad?: boolean
}

function recording(): boolean {
  return (tf.engine() as unknown as { state: { gradientDepth: number } }).state.gradientDepth > 0
}

/** True when `a` takes the fused relu6 path with its SIMD gradient. */
export function fusedReluPath(a: FusedConvArgs): boolean {
  return (
    a.activation === 'relu6' &&
    a.bias !== undefined &&
    a.inputGrad !== false &&
    a.x.dtype === 'float32' &&
    (a.depthwise
      ? a.filter.shape[3] === 1 && a.filter.shape[2] % 4 === 0
      : a.filter.shape[3] % 4 === 0) &&
    a.dilations[0] === 1 &&
    a.dilations[1] === 1 &&
    tf.getBackend() === 'wasm' &&
    activeSimdKernels() !== null &&
    tf.getKernel(RELU6_BIAS_GRAD, 'wasm') !== undefined &&
    recording()
  )
}

/** Fused conv (+ bias + activation); see the top of the file. */
export function fusedConv(a: FusedConvArgs): tf.Tensor4D {
  const pad = a.pad as 'same'
  if (!fusedReluPath(a)) {
    const args = {
      x: a.x,
      filter: a.filter,
      strides: a.strides,
      pad,
      dilations: a.dilations,
      bias: a.bias,
      activation: a.activation
    }
    return a.depthwise ? tf.fused.depthwiseConv2d(args) : tf.fused.conv2d(args)
  }
  const strides = a.strides
  const dilations = a.dilations
  const depthwise = a.depthwise
  const op = tf.customGrad((x, filter, bias, save) => {
    const x4 = x as tf.Tensor4D
    const f4 = filter as tf.Tensor4D
    const y = tf
      .engine()
      .runKernel(
        depthwise ? 'FusedDepthwiseConv2D' : 'FusedConv2D',
        { x: x4, filter: f4, bias: bias as tf.Tensor1D },
        { strides, pad, dataFormat: 'NHWC', dilations, activation: 'relu6', leakyreluAlpha: 0 }
      ) as tf.Tensor4D
    ;(save as tf.GradSaveFunc)([x4, f4, y])
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sf, sy] = saved as tf.Tensor4D[]
        const [dya, db] = tf.engine().runKernel(RELU6_BIAS_GRAD, { y: sy, dy }) as tf.Tensor[]
        const run = (name: string, inputs: Record<string, tf.Tensor>, attrs: object) =>
          tf.engine().runKernel(name, inputs, attrs as tf.NamedAttrMap) as tf.Tensor4D
        const dx = depthwise
          ? run(
              'DepthwiseConv2dNativeBackpropInput',
              { dy: dya, filter: sf },
              { strides, pad, dilations, inputShape: sx.shape }
            )
          : run(
              'Conv2DBackpropInput',
              { dy: dya, filter: sf },
              { strides, pad, dataFormat: 'NHWC', inputShape: sx.shape }
            )
        const dw = depthwise
          ? run(
              'DepthwiseConv2dNativeBackpropFilter',
              { x: sx, dy: dya },
              { strides, pad, dilations, filterShape: sf.shape }
            )
          : run(
              'Conv2DBackpropFilter',
              { x: sx, dy: dya },
              { strides, pad, dataFormat: 'NHWC', filterShape: sf.shape }
            )
        dya.dispose()
        return [dx, dw, db]
      }
    }
  })
  return op(a.x, a.filter, a.bias as tf.Tensor1D) as tf.Tensor4D
}
