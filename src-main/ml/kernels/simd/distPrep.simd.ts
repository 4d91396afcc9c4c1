/** The element-wise forward of the Mahalanobis distance block as a SIMD function (see distPrepFn). */
import { captureLoop, F32, Fn, I, I32, V128 } from './assembler'
import { expS, expV } from './exp'

/**
 * distPrep(mu, lv, p2, rn, bias, rows, cols) — the element-wise part of the Mahalanobis forward,
 * one row (class) at a time, for μ and ℓ [rows, cols]; p2 [rows, 2·cols] receives [iv | mhiv]:
 *   rn[c] = 1/√max(Σ_f μ², 1e-24);  iv = exp(−relu6(ℓ));  mhiv = (μ·rn)·iv;  bias[c] = Σ_f (μ·rn)·mhiv
 */
export function distPrepFn(): Fn {
  const f = new Fn('distPrep').param(I32, 'mu', 'lv', 'p2', 'rn', 'bias', 'rows', 'cols')
  f.local(I32, 'i', 'end', 'c', 'rowBytes', 'rmu', 'rlv', 'riv', 'rmhiv')
  f.local(V128, 'acc', 'x', 'k', 'r', 'e', 'mh', 'vrn')
  f.local(F32, 'sacc', 'srn', 'sx', 'sk', 'sr', 'se', 'smh')
  const sumLanes = [0, 1, 2, 3].flatMap((l) => [
    ...f.get('acc'),
    ...I.f32x4extract(l),
    ...f.get('sacc'),
    ...I.f32add,
    ...f.set('sacc')
  ])
  const row = (base: string, local: string) => [
    ...f.get(base),
    ...f.get('c'),
    ...f.get('rowBytes'),
    ...I.i32mul,
    ...I.i32add,
    ...f.set(local)
  ]
  // p2 rows are twice as long: [iv | mhiv]
  const wideRow = (base: string, first: string, second: string) => [
    ...f.get(base),
    ...f.get('c'),
    ...f.get('rowBytes'),
    ...I.i32mul,
    ...I.i32(1),
    ...I.i32shl,
    ...I.i32add,
    ...f.tee(first),
    ...f.get('rowBytes'),
    ...I.i32add,
    ...f.set(second)
  ]
  const zeroAcc = [...I.f32(0), ...I.f32x4splat, ...f.set('acc'), ...I.f32(0), ...f.set('sacc')]
  // Pass 1: Σ μ²
  const sqV = [
    ...f.get('acc'),
    ...f.at('rmu'),
    ...I.v128load,
    ...f.tee('x'),
    ...f.get('x'),
    ...I.f32x4mul,
    ...I.f32x4add,
    ...f.set('acc')
  ]
  const sqS = [
    ...f.get('sacc'),
    ...f.at('rmu'),
    ...I.f32load,
    ...f.tee('sx'),
    ...f.get('sx'),
    ...I.f32mul,
    ...I.f32add,
    ...f.set('sacc')
  ]
  // Pass 2: iv, mhiv, Σ μ̂·mhiv
  const p2V = [
    ...f.constV(0),
    ...f.at('rlv'),
    ...I.v128load,
    ...f.constV(0),
    ...I.f32x4max,
    ...f.constV(6),
    ...I.f32x4min,
    ...I.f32x4sub,
    ...f.set('x'),
    ...expV(f, 'x'),
    ...f.set('e'),
    ...f.at('riv'),
    ...f.get('e'),
    ...I.v128store,
    ...f.at('rmu'),
    ...I.v128load,
    ...f.get('vrn'),
    ...I.f32x4mul,
    ...f.tee('mh'),
    ...f.get('e'),
    ...I.f32x4mul,
    ...f.set('e'),
    ...f.at('rmhiv'),
    ...f.get('e'),
    ...I.v128store,
    ...f.get('acc'),
    ...f.get('mh'),
    ...f.get('e'),
    ...I.f32x4mul,
    ...I.f32x4add,
    ...f.set('acc')
  ]
  const p2S = [
    ...I.f32(0),
    ...f.at('rlv'),
    ...I.f32load,
    ...I.f32(0),
    ...I.f32max,
    ...I.f32(6),
    ...I.f32min,
    ...I.f32sub,
    ...f.set('sx'),
    ...expS(f, 'sx'),
    ...f.set('se'),
    ...f.at('riv'),
    ...f.get('se'),
    ...I.f32store,
    ...f.at('rmu'),
    ...I.f32load,
    ...f.get('srn'),
    ...I.f32mul,
    ...f.tee('smh'),
    ...f.get('se'),
    ...I.f32mul,
    ...f.set('se'),
    ...f.at('rmhiv'),
    ...f.get('se'),
    ...I.f32store,
    ...f.get('sacc'),
    ...f.get('smh'),
    ...f.get('se'),
    ...I.f32mul,
    ...I.f32add,
    ...f.set('sacc')
  ]
  const rowIdx = (base: string) => [
    ...f.get(base),
    ...f.get('c'),
    ...I.i32(2),
    ...I.i32shl,
    ...I.i32add
  ]
  f.emit([...f.get('cols'), ...I.i32(2), ...I.i32shl, ...f.set('rowBytes')])
  const rowBody: number[] = [
    ...row('mu', 'rmu'),
    ...row('lv', 'rlv'),
    ...wideRow('p2', 'riv', 'rmhiv'),
    ...zeroAcc
  ]
  const loop1 = captureLoop(f, 'cols', sqV, sqS)
  const loop2 = captureLoop(f, 'cols', p2V, p2S)
  rowBody.push(
    ...loop1,
    ...sumLanes,
    // rn = 1 / sqrt(max(s, 1e-24))
    ...I.f32(1),
    ...f.get('sacc'),
    ...I.f32(1e-24),
    ...I.f32max,
    ...I.f32sqrt,
    ...I.f32div,
    ...f.tee('srn'),
    ...I.f32x4splat,
    ...f.set('vrn'),
    ...rowIdx('rn'),
    ...f.get('srn'),
    ...I.f32store,
    ...zeroAcc,
    ...loop2,
    ...sumLanes,
    ...rowIdx('bias'),
    ...f.get('sacc'),
    ...I.f32store
  )
  return f.rowLoop('rows', rowBody)
}
