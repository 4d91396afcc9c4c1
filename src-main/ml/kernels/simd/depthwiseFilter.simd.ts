/** The filter gradient of a depthwise convolution (multiplier 1) as a SIMD function. */
import { Fn, I, I32, V128 } from './assembler'

/**
 * dwFilter(x, dy, out, n, hp, wp, cb, ho, wo, kh, kw, sh, sw): for x [n, hp, wp, C] already
 * padded/cropped so that tap (i, j) of output (h, w) reads x[·, h·sh + i, w·sw + j, ·], and
 * dy [n, ho, wo, C], writes out [kh, kw, C] = Σ_{n,h,w} x[n, h·sh+i, w·sw+j, c] · dy[n, h, w, c].
 * cb = C·4 bytes and must be a multiple of 16 (C a multiple of 4). The [kh, kw, C] accumulator
 * stays in cache while x and dy are each read in order, so the pass is memory-bound, not a
 * convolution with an image-sized filter.
 */
export function depthwiseFilterFn(): Fn {
  const f = new Fn('dwFilter').param(
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
  f.local(I32, 'b', 'h', 'w', 'i', 'j', 'k', 'ap', 'dp', 'xr', 'accEnd')
  f.local(V128, 'v')
  /** for (counter = 0; counter < limit; counter += step) body */
  const loop = (counter: string, limit: number[], step: number[], body: number[]) => [
    ...I.i32(0),
    ...f.set(counter),
    ...I.block,
    ...I.loop,
    ...f.get(counter),
    ...limit,
    ...I.i32ltu,
    ...I.i32eqz,
    ...I.brIf(1),
    ...body,
    ...f.get(counter),
    ...step,
    ...I.i32add,
    ...f.set(counter),
    ...I.br(0),
    ...I.end,
    ...I.end
  ]
  const one = I.i32(1)
  // acc[ap + k] += x[xr + k] · dy[dp + k] over one row of C channels.
  const channels = loop('k', f.get('cb'), I.i32(16), [
    ...f.get('ap'),
    ...f.get('k'),
    ...I.i32add,
    ...f.get('ap'),
    ...f.get('k'),
    ...I.i32add,
    ...I.v128load,
    ...f.get('xr'),
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
    // xr = x + ((b·hp + h·sh + i)·wp + w·sw)·cb
    ...f.get('x'),
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
    ...f.get('out'),
    ...f.set('ap'),
    ...taps,
    ...f.get('dp'),
    ...f.get('cb'),
    ...I.i32add,
    ...f.set('dp')
  ]
  f.emit(
    [...f.get('kh'), ...f.get('kw'), ...I.i32mul, ...f.get('cb'), ...I.i32mul, ...f.set('accEnd')],
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
