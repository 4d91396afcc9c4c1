/** Sum over the leading rows of a row-major [rows, C] block as one SIMD pass. */
import { Fn, I, I32, V128 } from './assembler'

/**
 * colSum(x, out, rows, cb): out[c] = Σ_r x[r, c] for x [rows, C], rows added in order (the
 * order tfjs's Sum uses after transposing). cb = C·4 bytes must be a multiple of 16; `out`
 * (C values, kept in cache) is zeroed first. The bias gradient of a conv layer: Σ over N, H, W.
 */
export function colSumFn(): Fn {
  const f = new Fn('colSum').param(I32, 'x', 'out', 'rows', 'cb')
  f.local(I32, 'p', 'k', 'end').local(V128, 'v')
  const loop = (counter: string, limit: number[], step: number[], body: number[]) =>
    f.countLoop(counter, limit, step, body)
  const outK = [...f.get('out'), ...f.get('k'), ...I.i32add]
  return f.emit(
    loop('k', f.get('cb'), I.i32(16), [...outK, ...f.constV(0), ...I.v128store]),
    [...f.get('rows'), ...f.get('cb'), ...I.i32mul, ...f.set('end')],
    loop(
      'p',
      f.get('end'),
      f.get('cb'),
      loop('k', f.get('cb'), I.i32(16), [
        ...outK,
        ...outK,
        ...I.v128load,
        ...f.get('x'),
        ...f.get('p'),
        ...I.i32add,
        ...f.get('k'),
        ...I.i32add,
        ...I.v128load,
        ...I.f32x4add,
        ...I.v128store
      ])
    )
  )
}
