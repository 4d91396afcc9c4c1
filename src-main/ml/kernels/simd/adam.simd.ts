/** The fused Adam/AdamW update as a SIMD function (see adamFn). */
import { F32, Fn, I, I32, V128 } from './assembler'

/**
 * adam(p, g, m, v, po, mo, vo, n, decay, l2, w1, beta2, w2, stepSize, bc2Sqrt, eps), per element
 * with torch.optim.Adam/AdamW's arithmetic:
 *   g' = g + l2·p;  m' = m + w1·(g' − m);  v' = β2·v + (w2·g')·g'
 *   p' = p·decay − stepSize·(m' / (√v' / bc2Sqrt + eps))
 */
export function adamFn(): Fn {
  const ptrs = ['p', 'g', 'm', 'v', 'po', 'mo', 'vo']
  const scal = ['decay', 'l2', 'w1', 'beta2', 'w2', 'step', 'bc2', 'eps']
  const f = new Fn('adam').param(I32, ...ptrs, 'n').param(F32, ...scal)
  f.local(I32, 'i', 'end').local(V128, ...scal.map((s) => `v_${s}`), 'vp', 'vg', 'vm', 'vv')
  f.local(F32, 'sp', 'sg', 'sm', 'sv')
  for (const s of scal) f.emit(f.get(s), I.f32x4splat, f.set(`v_${s}`))
  const body = (
    vx: (s: string) => string,
    load: number[],
    store: number[],
    ops: Record<string, number[]>
  ) => [
    ...f.at('p'),
    ...load,
    ...f.set(vx('p')),
    ...f.at('g'),
    ...load,
    ...f.get(vx('l2')),
    ...f.get(vx('p')),
    ...ops.mul,
    ...ops.add,
    ...f.set(vx('g')),
    ...f.at('m'),
    ...load,
    ...f.tee(vx('m')),
    ...f.get(vx('w1')),
    ...f.get(vx('g')),
    ...f.get(vx('m')),
    ...ops.sub,
    ...ops.mul,
    ...ops.add,
    ...f.set(vx('m')),
    ...f.get(vx('beta2')),
    ...f.at('v'),
    ...load,
    ...ops.mul,
    ...f.get(vx('w2')),
    ...f.get(vx('g')),
    ...ops.mul,
    ...f.get(vx('g')),
    ...ops.mul,
    ...ops.add,
    ...f.set(vx('v')),
    ...f.at('mo'),
    ...f.get(vx('m')),
    ...store,
    ...f.at('vo'),
    ...f.get(vx('v')),
    ...store,
    ...f.at('po'),
    ...f.get(vx('p')),
    ...f.get(vx('decay')),
    ...ops.mul,
    ...f.get(vx('step')),
    ...f.get(vx('m')),
    ...f.get(vx('v')),
    ...ops.sqrt,
    ...f.get(vx('bc2')),
    ...ops.div,
    ...f.get(vx('eps')),
    ...ops.add,
    ...ops.div,
    ...ops.mul,
    ...ops.sub,
    ...store
  ]
  const vOps = {
    mul: I.f32x4mul,
    add: I.f32x4add,
    sub: I.f32x4sub,
    div: I.f32x4div,
    sqrt: I.f32x4sqrt
  }
  const sOps = { mul: I.f32mul, add: I.f32add, sub: I.f32sub, div: I.f32div, sqrt: I.f32sqrt }
  const vName = (s: string) => (scal.includes(s) ? `v_${s}` : `v${s}`)
  const sName = (s: string) => (scal.includes(s) ? s : `s${s}`)
  return f.elementLoop(
    'n',
    body(vName, I.v128load, I.v128store, vOps),
    body(sName, I.f32load, I.f32store, sOps)
  )
}
