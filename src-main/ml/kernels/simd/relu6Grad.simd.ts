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

/**
 * relu6BiasGrad(y, dy, out, db, rows, cb): the gradient of relu6(conv + bias) from the layer's
 * OUTPUT y [rows, C] in one pass: out = dy where 0 < y < 6, else 0, and db[c] = Σ_rows out[·, c]
 * (the bias gradient). y = relu6(x) lies strictly inside (0, 6) exactly where 0 < x < 6, so this
 * is tfjs's mask except at x = 6 exactly (tfjs passes the gradient there, PyTorch does not).
 * cb = C·4 bytes must be a multiple of 16; db is zeroed first.
 */
export function relu6BiasGradFn(): Fn {
  const f = new Fn('relu6BiasGrad').param(I32, 'y', 'dy', 'out', 'db', 'rows', 'cb')
  f.local(I32, 'p', 'k', 'end').local(V128, 'v')
  const loop = (
    counter: string,
    start: number[],
    limit: number[],
    step: number[],
    body: number[]
  ) => f.countLoop(counter, limit, step, body, start)
  const addr = (base: string) => [
    ...f.get(base),
    ...f.get('p'),
    ...I.i32add,
    ...f.get('k'),
    ...I.i32add
  ]
  const channel = [
    // v = (0 < y < 6) & dy
    ...addr('y'),
    ...I.v128load,
    ...f.tee('v'),
    ...f.constV(0),
    ...I.f32x4gt,
    ...f.get('v'),
    ...f.constV(6),
    ...I.f32x4lt,
    ...I.v128and,
    ...addr('dy'),
    ...I.v128load,
    ...I.v128and,
    ...f.set('v'),
    ...addr('out'),
    ...f.get('v'),
    ...I.v128store,
    // db[k] += v
    ...f.get('db'),
    ...f.get('k'),
    ...I.i32add,
    ...f.get('db'),
    ...f.get('k'),
    ...I.i32add,
    ...I.v128load,
    ...f.get('v'),
    ...I.f32x4add,
    ...I.v128store
  ]
  return f.emit(
    loop('k', I.i32(0), f.get('cb'), I.i32(16), [
      ...f.get('db'),
      ...f.get('k'),
      ...I.i32add,
      ...f.constV(0),
      ...I.v128store
    ]),
    [...f.get('rows'), ...f.get('cb'), ...I.i32mul, ...f.set('end')],
    loop(
      'p',
      I.i32(0),
      f.get('end'),
      f.get('cb'),
      loop('k', I.i32(0), f.get('cb'), I.i32(16), channel)
    )
  )
}
