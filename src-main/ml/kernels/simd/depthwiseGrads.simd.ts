/** The gradients of a depthwise convolution (multiplier 1) as SIMD functions. */
import { Fn, I, I32, V128 } from './assembler'

/**
 * Both gradients walk the same loops: every output pixel (b, h, w) and filter tap (i, j) pairs
 * dy[b, h, w, :] with padded-input pixel (b, h·sh + i, w·sw + j); `x` is the padded input
 * [n, hp, wp, C] for 'filter' and the filter [kh, kw, C] for 'input'.
 *
 * dwFilter(x, dy, out, n, hp, wp, cb, ho, wo, kh, kw, sh, sw): out [kh, kw, C] =
 *   Σ_{b,h,w} x[b, h·sh+i, w·sw+j, c] · dy[b, h, w, c] (x padded/cropped for the forward's taps).
 *   The [kh, kw, C] accumulator stays in cache while x and dy are read in order, so this is
 *   one memory-bound pass, not a convolution with an image-sized filter.
 * dwInput(w, dy, out, n, hp, wp, cb, ho, wo, kh, kw, sh, sw): out [n, hp, wp, C] (the padded
 *   input's gradient; the caller crops it) += w[i, j, c] · dy[b, h, w, c] at (b, h·sh+i, w·sw+j):
 *   a scatter with no zero-dilated copy of dy and no multiplications by inserted zeros.
 * cb = C·4 bytes must be a multiple of 16 (C a multiple of 4). The output is zeroed first.
 */
export function depthwiseFilterFn(): Fn {
  return depthwiseGradFn('filter')
}

/** See depthwiseFilterFn. */
export function depthwiseInputFn(): Fn {
  return depthwiseGradFn('input')
}

function depthwiseGradFn(kind: 'filter' | 'input'): Fn {
  const f = new Fn(kind === 'filter' ? 'dwFilter' : 'dwInput').param(
    I32,
    'x',
    'dy',
    'out',
    'n',
    'hp',
    'wp',
    'cb',
    'ho',
    'wo',
    'kh',
    'kw',
    'sh',
    'sw'
  )
  // ap walks the taps of `out` (filter) or of `x` (input); xr walks the padded-input pixels of
  // `x` (filter) or of `out` (input); the accumulator is out in both cases.
  f.local(I32, 'b', 'h', 'w', 'i', 'j', 'k', 'ap', 'dp', 'xr', 'accEnd')
  f.local(V128, 'v')
  /** for (counter = 0; counter < limit; counter += step) body */
  const loop = (counter: string, limit: number[], step: number[], body: number[]) =>
    f.countLoop(counter, limit, step, body)
  const one = I.i32(1)
  // acc[k] += other[k] · dy[dp + k] over one row of C channels.
  const [acc, other] = kind === 'filter' ? ['ap', 'xr'] : ['xr', 'ap']
  const channels = loop('k', f.get('cb'), I.i32(16), [
    ...f.get(acc),
    ...f.get('k'),
    ...I.i32add,
    ...f.get(acc),
    ...f.get('k'),
    ...I.i32add,
    ...I.v128load,
    ...f.get(other),
    ...f.get('k'),
    ...I.i32add,
    ...I.v128load,
    ...f.get('dp'),
    ...f.get('k'),
    ...I.i32add,
    ...I.v128load,
    ...I.f32x4mul,
    ...I.f32x4add,
    ...I.v128store
  ])
  const taps = loop('i', f.get('kh'), one, [
    // xr = base + ((b·hp + h·sh + i)·wp + w·sw)·cb
    ...f.get(kind === 'filter' ? 'x' : 'out'),
    ...f.get('b'),
    ...f.get('hp'),
    ...I.i32mul,
    ...f.get('h'),
    ...f.get('sh'),
    ...I.i32mul,
    ...I.i32add,
    ...f.get('i'),
    ...I.i32add,
    ...f.get('wp'),
    ...I.i32mul,
    ...f.get('w'),
    ...f.get('sw'),
    ...I.i32mul,
    ...I.i32add,
    ...f.get('cb'),
    ...I.i32mul,
    ...I.i32add,
    ...f.set('xr'),
    ...loop('j', f.get('kw'), one, [
      ...channels,
      ...f.get('ap'),
      ...f.get('cb'),
      ...I.i32add,
      ...f.set('ap'),
      ...f.get('xr'),
      ...f.get('cb'),
      ...I.i32add,
      ...f.set('xr')
    ])
  ])
  const pixel = [
    ...f.get(kind === 'filter' ? 'out' : 'x'),
    ...f.set('ap'),
    ...taps,
    ...f.get('dp'),
    ...f.get('cb'),
    ...I.i32add,
    ...f.set('dp')
  ]
  f.emit(
    kind === 'filter'
      ? [
          ...f.get('kh'),
          ...f.get('kw'),
          ...I.i32mul,
          ...f.get('cb'),
          ...I.i32mul,
          ...f.set('accEnd')
        ]
      : [
          ...f.get('n'),
          ...f.get('hp'),
          ...I.i32mul,
          ...f.get('wp'),
          ...I.i32mul,
          ...f.get('cb'),
          ...I.i32mul,
          ...f.set('accEnd')
        ],
    // The output buffer is not zeroed by the backend.
    loop('k', f.get('accEnd'), I.i32(16), [
      ...f.get('out'),
      ...f.get('k'),
      ...I.i32add,
      ...f.constV(0),
      ...I.v128store
    ]),
    [...f.get('dy'), ...f.set('dp')],
    loop('b', f.get('n'), one, loop('h', f.get('ho'), one, loop('w', f.get('wo'), one, pixel)))
  )
  return f
}
