/** The gradient of relu6 as one SIMD pass. */
import { F32, Fn, I, I32, V128 } from './assembler'

/**
 * relu6Grad(x, dy, out, n): out = dy where 0 < x ≤ 6, else 0 (tfjs's Relu6 gradient, which on
 * wasm takes LessEqual, Step, Cast and two Multiply kernels: five passes and a bool tensor).
 */
export function relu6GradFn(): Fn {
  const f = new Fn('relu6Grad').param(I32, 'x', 'dy', 'out', 'n')
  f.local(I32, 'i', 'end').local(V128, 'vx').local(F32, 'sx')
  const vec = [
    ...f.at('out'),
    ...f.at('x'),
    ...I.v128load,
    ...f.tee('vx'),
    ...f.constV(0),
    ...I.f32x4gt,
    ...f.get('vx'),
    ...f.constV(6),
    ...I.f32x4le,
    ...I.v128and,
    ...f.at('dy'),
    ...I.v128load,
    ...I.v128and,
    ...I.v128store
  ]
  const scalar = [
    ...f.at('out'),
    ...f.at('dy'),
    ...I.f32load,
    ...I.f32(0),
    ...f.at('x'),
    ...I.f32load,
    ...f.tee('sx'),
    ...I.f32(0),
    ...I.f32gt,
    ...f.get('sx'),
    ...I.f32(6),
    ...I.f32le,
    ...I.i32and,
    ...I.select,
    ...I.f32store
  ]
  return f.elementLoop('n', vec, scalar)
}
