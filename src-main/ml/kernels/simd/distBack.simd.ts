/** The element-wise backward of the Mahalanobis distance block as a SIMD function (see distBackFn). */
import { captureLoop, F32, Fn, I, I32, V128 } from './assembler'

/**
 * distBack(mu, lv, p2, rn, active, gs, nb, dmu, dlv, rows, cols) — the element-wise part of the
 * Mahalanobis gradient, per row c with μ̂ = μ·rn[c], iv from p2 = [iv | mhiv] and
 * nb = [negA | negB2] (both [rows, 2·cols]):
 *   t = μ̂·gs[c];  q = negB2 + t;  dμ̂ = iv·(q + t);  dℓ = (negA − μ̂·q)·iv·1[0 < ℓ < 6]
 *   dμ = (dμ̂ − μ̂·⟨dμ̂, μ̂⟩·active[c])·rn[c]
 * (dμ̂ is parked in dmu between the two passes over the row.)
 */
export function distBackFn(): Fn {
  const f = new Fn('distBack').param(
    I32,
    'mu',
    'lv',
    'p2',
    'rn',
    'active',
    'gs',
    'nb',
    'dmu',
    'dlv',
    'rows',
    'cols'
  )
  f.local(
    I32,
    'i',
    'end',
    'c',
    'rowBytes',
    'rmu',
    'rlv',
    'riv',
    'rmhiv',
    'rnegA',
    'rnegB2',
    'rdmu',
    'rdlv'
  )
  f.local(V128, 'acc', 'mh', 't', 'q', 'd', 'l', 'vrn', 'vgs', 'vproj')
  f.local(F32, 'sacc', 'srn', 'sgs', 'sproj', 'smh', 'st', 'sq', 'sd', 'sl')
  const row = (base: string, local: string) => [
    ...f.get(base),
    ...f.get('c'),
    ...f.get('rowBytes'),
    ...I.i32mul,
    ...I.i32add,
    ...f.set(local)
  ]
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
  const rowIdx = (base: string) => [
    ...f.get(base),
    ...f.get('c'),
    ...I.i32(2),
    ...I.i32shl,
    ...I.i32add
  ]
  const sumLanes = [0, 1, 2, 3].flatMap((l) => [
    ...f.get('acc'),
    ...I.f32x4extract(l),
    ...f.get('sacc'),
    ...I.f32add,
    ...f.set('sacc')
  ])
  const p1V = [
    // mh = μ·rn; t = mh·gs; q = negB2 + t
    ...f.at('rmu'),
    ...I.v128load,
    ...f.get('vrn'),
    ...I.f32x4mul,
    ...f.tee('mh'),
    ...f.get('vgs'),
    ...I.f32x4mul,
    ...f.set('t'),
    ...f.at('rnegB2'),
    ...I.v128load,
    ...f.get('t'),
    ...I.f32x4add,
    ...f.set('q'),
    // dμ̂ = iv·(q + t) → dmu; acc += dμ̂·mh
    ...f.at('riv'),
    ...I.v128load,
    ...f.get('q'),
    ...f.get('t'),
    ...I.f32x4add,
    ...I.f32x4mul,
    ...f.set('d'),
    ...f.at('rdmu'),
    ...f.get('d'),
    ...I.v128store,
    ...f.get('acc'),
    ...f.get('d'),
    ...f.get('mh'),
    ...I.f32x4mul,
    ...I.f32x4add,
    ...f.set('acc'),
    // dℓ = ((negA − mh·q)·iv) & (0 < ℓ < 6)
    ...f.at('rdlv'),
    ...f.at('rnegA'),
    ...I.v128load,
    ...f.get('mh'),
    ...f.get('q'),
    ...I.f32x4mul,
    ...I.f32x4sub,
    ...f.at('riv'),
    ...I.v128load,
    ...I.f32x4mul,
    ...f.at('rlv'),
    ...I.v128load,
    ...f.tee('l'),
    ...f.constV(0),
    ...I.f32x4gt,
    ...I.v128and,
    ...f.get('l'),
    ...f.constV(6),
    ...I.f32x4lt,
    ...I.v128and,
    ...I.v128store
  ]
  const p1S = [
    ...f.at('rmu'),
    ...I.f32load,
    ...f.get('srn'),
    ...I.f32mul,
    ...f.tee('smh'),
    ...f.get('sgs'),
    ...I.f32mul,
    ...f.set('st'),
    ...f.at('rnegB2'),
    ...I.f32load,
    ...f.get('st'),
    ...I.f32add,
    ...f.set('sq'),
    ...f.at('riv'),
    ...I.f32load,
    ...f.get('sq'),
    ...f.get('st'),
    ...I.f32add,
    ...I.f32mul,
    ...f.set('sd'),
    ...f.at('rdmu'),
    ...f.get('sd'),
    ...I.f32store,
    ...f.get('sacc'),
    ...f.get('sd'),
    ...f.get('smh'),
    ...I.f32mul,
    ...I.f32add,
    ...f.set('sacc'),
    ...f.at('rdlv'),
    ...f.at('rnegA'),
    ...I.f32load,
    ...f.get('smh'),
    ...f.get('sq'),
    ...I.f32mul,
    ...I.f32sub,
    ...f.at('riv'),
    ...I.f32load,
    ...I.f32mul,
    ...I.f32(0),
    ...f.at('rlv'),
    ...I.f32load,
    ...f.tee('sl'),
    ...I.f32(0),
    ...I.f32gt,
    ...f.get('sl'),
    ...I.f32(6),
    ...I.f32lt,
    ...I.i32and,
    ...I.select,
    ...I.f32store
  ]
  // Pass 2: dμ = (dμ̂ − mh·proj)·rn
  const p2V = [
    ...f.at('rdmu'),
    ...f.at('rdmu'),
    ...I.v128load,
    ...f.at('rmu'),
    ...I.v128load,
    ...f.get('vrn'),
    ...I.f32x4mul,
    ...f.get('vproj'),
    ...I.f32x4mul,
    ...I.f32x4sub,
    ...f.get('vrn'),
    ...I.f32x4mul,
    ...I.v128store
  ]
  const p2S = [
    ...f.at('rdmu'),
    ...f.at('rdmu'),
    ...I.f32load,
    ...f.at('rmu'),
    ...I.f32load,
    ...f.get('srn'),
    ...I.f32mul,
    ...f.get('sproj'),
    ...I.f32mul,
    ...I.f32sub,
    ...f.get('srn'),
    ...I.f32mul,
    ...I.f32store
  ]
  f.emit([...f.get('cols'), ...I.i32(2), ...I.i32shl, ...f.set('rowBytes')])
  const loop1 = captureLoop(f, 'cols', p1V, p1S)
  const loop2 = captureLoop(f, 'cols', p2V, p2S)
  const rowBody = [
    ...row('mu', 'rmu'),
    ...row('lv', 'rlv'),
    ...wideRow('p2', 'riv', 'rmhiv'),
    ...wideRow('nb', 'rnegA', 'rnegB2'),
    ...row('dmu', 'rdmu'),
    ...row('dlv', 'rdlv'),
    ...rowIdx('rn'),
    ...I.f32load,
    ...f.tee('srn'),
    ...I.f32x4splat,
    ...f.set('vrn'),
    ...rowIdx('gs'),
    ...I.f32load,
    ...f.tee('sgs'),
    ...I.f32x4splat,
    ...f.set('vgs'),
    ...f.constV(0),
    ...f.set('acc'),
    ...I.f32(0),
    ...f.set('sacc'),
    ...loop1,
    ...sumLanes,
    ...f.get('sacc'),
    ...rowIdx('active'),
    ...I.f32load,
    ...I.f32mul,
    ...f.tee('sproj'),
    ...I.f32x4splat,
    ...f.set('vproj'),
    ...loop2
  ]
  return f.rowLoop('rows', rowBody)
}
