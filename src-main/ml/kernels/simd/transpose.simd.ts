/** A 2-D float32 transpose as a SIMD function (see transposeFn). */
import { Fn, I, I32, V128 } from './assembler'

/**
 * transpose(src, dst, rows, cols): dst [cols, rows] = srcᵀ for a row-major src [rows, cols], in
 * 4×4 blocks (four row loads, two rounds of lane shuffles, four column stores) stacked four
 * high so that each destination row receives a whole 64-byte line at a time; scalar loops
 * cover the last rows / columns when a size is not a multiple of 16 / 4.
 */
export function transposeFn(): Fn {
  const f = new Fn('transpose').param(I32, 'src', 'dst', 'rows', 'cols')
  f.local(I32, 'r', 'c', 'rEnd', 'cEnd', 'sStride', 'dStride', 'b0', 'rr', 'k', 'j', 'r16End')
  f.local(V128, 'a', 'b', 'cc', 'd', 't0', 't1', 't2', 't3')
  const loop = (counter: string, limit: number[], step: number, body: number[]) => [
    ...I.block,
    ...I.loop,
    ...f.get(counter),
    ...limit,
    ...I.i32ltu,
    ...I.i32eqz,
    ...I.brIf(1),
    ...body,
    ...f.get(counter),
    ...I.i32(step),
    ...I.i32add,
    ...f.set(counter),
    ...I.br(0),
    ...I.end,
    ...I.end
  ]
  // Row q (0..3) of the 4×4 block at source row rr, column c.
  const load = (q: number, into: string) => [
    ...f.get('b0'),
    ...f.get('sStride'),
    ...I.i32(q),
    ...I.i32mul,
    ...I.i32add,
    ...I.v128load,
    ...f.set(into)
  ]
  // dst offset of element (row rr, column c + q): dst + (c + q)·dStride + rr·4
  const dstAt = (q: number) => [
    ...f.get('dst'),
    ...f.get('c'),
    ...I.i32(q),
    ...I.i32add,
    ...f.get('dStride'),
    ...I.i32mul,
    ...I.i32add,
    ...f.get('rr'),
    ...I.i32(2),
    ...I.i32shl,
    ...I.i32add
  ]
  const pair = (x: string, y: string, lanes: number[]) => [
    ...f.get(x),
    ...f.get(y),
    ...I.shuffle32(lanes)
  ]
  const block4 = [
    // b0 = src + rr·sStride + c·4
    ...f.get('src'),
    ...f.get('rr'),
    ...f.get('sStride'),
    ...I.i32mul,
    ...I.i32add,
    ...f.get('c'),
    ...I.i32(2),
    ...I.i32shl,
    ...I.i32add,
    ...f.set('b0'),
    ...load(0, 'a'),
    ...load(1, 'b'),
    ...load(2, 'cc'),
    ...load(3, 'd'),
    ...pair('a', 'b', [0, 4, 1, 5]),
    ...f.set('t0'),
    ...pair('a', 'b', [2, 6, 3, 7]),
    ...f.set('t1'),
    ...pair('cc', 'd', [0, 4, 1, 5]),
    ...f.set('t2'),
    ...pair('cc', 'd', [2, 6, 3, 7]),
    ...f.set('t3'),
    ...dstAt(0),
    ...pair('t0', 't2', [0, 1, 4, 5]),
    ...I.v128store,
    ...dstAt(1),
    ...pair('t0', 't2', [2, 3, 6, 7]),
    ...I.v128store,
    ...dstAt(2),
    ...pair('t1', 't3', [0, 1, 4, 5]),
    ...I.v128store,
    ...dstAt(3),
    ...pair('t1', 't3', [2, 3, 6, 7]),
    ...I.v128store
  ]
  // One element: dst[c·rows + row] = src[row·cols + c]
  const scalarEl = (row: number[]) => [
    ...f.get('dst'),
    ...f.get('c'),
    ...f.get('dStride'),
    ...I.i32mul,
    ...I.i32add,
    ...row,
    ...I.i32(2),
    ...I.i32shl,
    ...I.i32add,
    ...f.get('src'),
    ...row,
    ...f.get('sStride'),
    ...I.i32mul,
    ...I.i32add,
    ...f.get('c'),
    ...I.i32(2),
    ...I.i32shl,
    ...I.i32add,
    ...I.f32load,
    ...I.f32store
  ]
  /** Rows [r, r + height) for every column: 4×4 blocks, then the last columns one by one. */
  const strip = (height: number) =>
    height < 4
      ? [
          ...I.i32(0),
          ...f.set('c'),
          ...loop('c', f.get('cols'), 1, [
            ...I.i32(0),
            ...f.set('j'),
            ...loop('j', I.i32(height), 1, scalarEl([...f.get('r'), ...f.get('j'), ...I.i32add]))
          ])
        ]
      : [
          ...I.i32(0),
          ...f.set('c'),
          ...loop('c', f.get('cEnd'), 4, [
            // height/4 vertically stacked blocks: each destination row gets height·4 contiguous bytes
            ...I.i32(0),
            ...f.set('k'),
            ...loop('k', I.i32(height), 4, [
              ...f.get('r'),
              ...f.get('k'),
              ...I.i32add,
              ...f.set('rr'),
              ...block4
            ])
          ]),
          ...f.get('cEnd'),
          ...f.set('c'),
          ...loop('c', f.get('cols'), 1, [
            ...I.i32(0),
            ...f.set('j'),
            ...loop('j', I.i32(height), 1, scalarEl([...f.get('r'), ...f.get('j'), ...I.i32add]))
          ])
        ]
  f.emit(
    [...f.get('cols'), ...I.i32(2), ...I.i32shl, ...f.set('sStride')],
    [...f.get('rows'), ...I.i32(2), ...I.i32shl, ...f.set('dStride')],
    [...f.get('rows'), ...I.i32(-16), ...I.i32and, ...f.set('r16End')],
    [...f.get('rows'), ...I.i32(-4), ...I.i32and, ...f.set('rEnd')],
    [...f.get('cols'), ...I.i32(-4), ...I.i32and, ...f.set('cEnd')],
    [...I.i32(0), ...f.set('r')],
    // 16-row strips fill whole 64-byte lines of the destination; then 4-row strips; then single rows.
    loop('r', f.get('r16End'), 16, strip(16)),
    loop('r', f.get('rEnd'), 4, strip(4)),
    loop('r', f.get('rows'), 1, strip(1))
  )
  return f
}
