/**
 * Gradient kernels that @tensorflow/tfjs-backend-wasm 4.22 does not ship, registered for the
 * 'wasm' backend and built only from kernels wasm does have. Without them any conv-net training
 * step on wasm throws "Kernel 'Conv2DBackpropFilter' not registered for backend 'wasm'".
 *
 * Found missing by training MobileNetV2 (nsfwjs) and the small CNN one step on wasm and by
 * diffing tf.getKernelsForBackend('wasm') against 'cpu':
 *   Conv2DBackpropFilter, DepthwiseConv2dNativeBackpropFilter, DepthwiseConv2dNativeBackpropInput,
 *   UnsortedSegmentSum (the gradient of tf.gather).
 * wasm does have MaxPoolGrad, AvgPoolGrad and all ops that BatchNorm's gradient uses;
 * wasmGradients.test.ts checks them against cpu too. Three kernels wasm has are replaced because
 * they dominated a MobileNetV2 training step: Conv2DBackpropInput (a naive loop, ~8× slower than
 * the XNNPACK conv it is rewritten into) and BatchMatMul/_FusedMatMul with transpose flags.
 *
 * The gradient math lives in ./convGradients.ts; this file registers it. The missing kernels
 * are needed to train conv nets on wasm at all; the replacements are only faster.
 */
import * as tf from '@tensorflow/tfjs'
// Imported here so that wasm's own kernels are registered before ours replace some of them
// (a later import would silently re-register the slow originals).
import '@tensorflow/tfjs-backend-wasm'
import {
  conv2DBackpropInput,
  conv2DBackpropFilter,
  depthwiseBackpropFilter,
  depthwiseBackpropInput,
  unsortedSegmentSum
} from './convGradients'
import { fastPad, fastSlice } from './copyKernels'

/** The kernels this module adds, in registration order. */
export const WASM_GRADIENT_KERNELS = [
  'Conv2DBackpropFilter',
  'DepthwiseConv2dNativeBackpropFilter',
  'DepthwiseConv2dNativeBackpropInput',
  'UnsortedSegmentSum'
] as const

type KernelImpl = (inputs: Record<string, tf.Tensor>, attrs: Record<string, unknown>) => tf.Tensor

const IMPLS: Record<(typeof WASM_GRADIENT_KERNELS)[number], KernelImpl> = {
  Conv2DBackpropFilter: (i, a) => conv2DBackpropFilter(i.x as tf.Tensor4D, i.dy as tf.Tensor4D, a),
  DepthwiseConv2dNativeBackpropFilter: (i, a) =>
    depthwiseBackpropFilter(i.x as tf.Tensor4D, i.dy as tf.Tensor4D, a),
  DepthwiseConv2dNativeBackpropInput: (i, a) =>
    depthwiseBackpropInput(i.dy as tf.Tensor4D, i.filter as tf.Tensor4D, a),
  UnsortedSegmentSum: (i, a) => unsortedSegmentSum(i.x, i.segmentIds, a)
}

/** Swaps the last two axes. */
function swapLast(t: tf.Tensor): tf.Tensor {
  const perm = t.shape.map((_, k) => k)
  perm[t.rank - 1] = t.rank - 2
  perm[t.rank - 2] = t.rank - 1
  return tf.transpose(t, perm)
}

/**
 * Wraps wasm's BatchMatMul / _FusedMatMul: with transposeA/B set they run 20–40× slower than
 * an explicit transpose followed by the plain product (measured on [32,1280]×[1280,512]: 123 ms
 * vs 3 ms), and every matmul gradient sets them (dA = dY·Bᵀ, dB = Aᵀ·dY).
 */
function untransposedMatMul(orig: tf.KernelConfig): tf.KernelFunc {
  return (args) => {
    const attrs = args.attrs as unknown as { transposeA: boolean; transposeB: boolean }
    if (!attrs.transposeA && !attrs.transposeB) return orig.kernelFunc(args)
    const inputs = args.inputs as unknown as Record<string, tf.Tensor>
    const a = attrs.transposeA ? swapLast(inputs.a) : inputs.a
    const b = attrs.transposeB ? swapLast(inputs.b) : inputs.b
    try {
      return orig.kernelFunc({
        ...args,
        inputs: { ...args.inputs, a, b },
        attrs: { ...args.attrs, transposeA: false, transposeB: false }
      })
    } finally {
      if (a !== inputs.a) a.dispose()
      if (b !== inputs.b) b.dispose()
    }
  }
}

/** Kernels wasm has but that are slow enough to dominate a training step; replaced or wrapped. */
export const WASM_REPLACED_KERNELS = [
  'Conv2DBackpropInput',
  'BatchMatMul',
  '_FusedMatMul',
  'Identity',
  'Slice',
  'PadV2'
] as const

/**
 * Identity (tf.clone, and every tensor the engine saves for a gradient) shares the buffer by
 * reference count, as it does on cpu, webgl and webgpu, instead of copying it: wasm's own copy
 * cost a full pass per saved activation and doubled their memory in a training step. Tensors are
 * immutable (kernels write only to fresh outputs, variables are re-pointed on assign), so
 * sharing is safe; wasm's Reshape already shares the same way.
 */
function sharedIdentity(orig: tf.KernelConfig | undefined): tf.KernelFunc {
  return (args) => {
    const x = (args.inputs as unknown as { x: tf.TensorInfo }).x
    const backend = args.backend as unknown as { incRef(id: tf.DataId): void }
    if (x.dtype === 'string' && orig) return orig.kernelFunc(args)
    backend.incRef(x.dataId)
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype }
  }
}

let missingDone: string[] | null = null
let replacedDone: string[] | null = null

/**
 * Registers the gradient kernels wasm lacks (idempotent). A kernel that wasm (or an earlier call)
 * already provides is left alone. Returns the names this call registered.
 */
export function registerMissingWasmGradients(): string[] {
  if (missingDone) return []
  missingDone = []
  for (const name of WASM_GRADIENT_KERNELS) {
    if (tf.getKernel(name, 'wasm')) continue
    const impl = IMPLS[name]
    tf.registerKernel({
      kernelName: name,
      backendName: 'wasm',
      kernelFunc: ({ inputs, attrs }) =>
        impl(
          inputs as unknown as Record<string, tf.Tensor>,
          attrs as unknown as Record<string, unknown>
        ) as unknown as tf.TensorInfo
    })
    missingDone.push(name)
  }
  return [...missingDone]
}

/** Replaces one wasm kernel, keeping the original's setupFunc. */
function replace(name: string, make: (orig: tf.KernelConfig | undefined) => tf.KernelFunc): void {
  const orig = tf.getKernel(name, 'wasm')
  if (orig) tf.unregisterKernel(name, 'wasm')
  // The wasm backend calls each kernel's setupFunc (binding the C++ function) when it
  // initialises; keep the original's so that replacing before initialisation works too.
  tf.registerKernel({
    kernelName: name,
    backendName: 'wasm',
    kernelFunc: make(orig),
    setupFunc: orig?.setupFunc
  })
}

/** Replaces the wasm kernels that dominate a training step (idempotent); returns their names. */
export function replaceSlowWasmKernels(): string[] {
  if (replacedDone) return []
  replacedDone = []
  replace('Conv2DBackpropInput', (orig) => (args) => {
    const attrs = args.attrs as unknown as Record<string, unknown>
    if (attrs.dataFormat === 'NCHW' && orig) return orig.kernelFunc(args)
    const inputs = args.inputs as unknown as Record<string, tf.Tensor>
    return conv2DBackpropInput(
      inputs.dy as tf.Tensor4D,
      inputs.filter as tf.Tensor4D,
      attrs
    ) as unknown as tf.TensorInfo
  })
  replacedDone.push('Conv2DBackpropInput')
  replace('Identity', sharedIdentity)
  replacedDone.push('Identity')
  // Crops and pads of NHWC activations (the conv gradients make several per layer) as one
  // memmove per row of W·C values instead of one per C values (./copyKernels.ts).
  for (const [name, make] of [
    ['Slice', fastSlice],
    ['PadV2', fastPad]
  ] as const) {
    const orig = tf.getKernel(name, 'wasm')
    if (!orig) continue
    replace(name, () => make(orig))
    replacedDone.push(name)
  }
  for (const name of ['BatchMatMul', '_FusedMatMul']) {
    const orig = tf.getKernel(name, 'wasm')
    if (!orig) continue
    replace(name, () => untransposedMatMul(orig))
    replacedDone.push(name)
  }
  return [...replacedDone]
}

/** Both of the above (idempotent); returns the names this call registered or replaced. */
export function ensureWasmGradients(): string[] {
  return [...registerMissingWasmGradients(), ...replaceSlowWasmKernels()]
}
