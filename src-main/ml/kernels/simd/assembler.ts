/**
 * A minimal WebAssembly assembler for the SIMD kernels in this folder: LEB128 encoding, the
 * handful of instructions the kernels use (f32x4 arithmetic, loads/stores, loops), a function
 * builder with named locals and hoisted vector constants, and the module writer (one imported
 * memory `env.memory`, exported functions). It knows nothing about any kernel.
 */

// ---------------------------------------------------------------------------------------------
// Minimal assembler

export const I32 = 0x7f
export const F32 = 0x7d
export const V128 = 0x7b
export type ValType = typeof I32 | typeof F32 | typeof V128

/** Unsigned LEB128. */
function uleb(n: number): number[] {
  const out: number[] = []
  do {
    let b = n & 0x7f
    n >>>= 7
    if (n) b |= 0x80
    out.push(b)
  } while (n)
  return out
}

/** Signed LEB128 (for i32.const). */
function sleb(n: number): number[] {
  const out: number[] = []
  for (;;) {
    const b = n & 0x7f
    n >>= 7
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b)
      return out
    }
    out.push(b | 0x80)
  }
}

function name(s: string): number[] {
  const b = Array.from(new TextEncoder().encode(s))
  return [...uleb(b.length), ...b]
}

function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()]
}

function section(id: number, content: number[]): number[] {
  return [id, ...uleb(content.length), ...content]
}

const simd = (code: number) => [0xfd, ...uleb(code)]

/** Instructions (bytes). Memory accesses use natural alignment hints. */
export const I = {
  i32: (v: number) => [0x41, ...sleb(v)],
  f32: (v: number) => [0x43, ...new Uint8Array(new Float32Array([v]).buffer)],
  i32add: [0x6a],
  i32sub: [0x6b],
  i32mul: [0x6c],
  i32and: [0x71],
  i32shl: [0x74],
  i32ltu: [0x49],
  i32eqz: [0x45],
  f32load: [0x2a, 2, 0],
  f32store: [0x38, 2, 0],
  f32add: [0x92],
  f32sub: [0x93],
  f32mul: [0x94],
  f32div: [0x95],
  f32min: [0x96],
  f32max: [0x97],
  f32sqrt: [0x91],
  f32nearest: [0x90],
  f32gt: [0x5e],
  f32lt: [0x5d],
  f32le: [0x5f],
  i32truncf32s: [0xa8],
  f32reinterpret: [0xbe],
  select: [0x1b],
  v128load: [...simd(0x00), 4, 0],
  v128store: [...simd(0x0b), 4, 0],
  f32x4splat: simd(0x13),
  /** i8x16.shuffle of two v128 by 4 f32 lane indices (0–3 first operand, 4–7 second). */
  shuffle32: (lanes: number[]) => [
    ...simd(0x0d),
    ...lanes.flatMap((l) => [0, 1, 2, 3].map((b) => l * 4 + b))
  ],
  i32x4splat: simd(0x11),
  f32x4extract: (lane: number) => [...simd(0x1f), lane],
  f32x4lt: simd(0x43),
  f32x4gt: simd(0x44),
  f32x4le: simd(0x45),
  v128and: simd(0x4e),
  f32x4nearest: simd(0x6a),
  i32x4shl: simd(0xab),
  i32x4add: simd(0xae),
  i32x4truncsatf32x4s: simd(0xf8),
  f32x4sqrt: simd(0xe3),
  f32x4add: simd(0xe4),
  f32x4sub: simd(0xe5),
  f32x4mul: simd(0xe6),
  f32x4div: simd(0xe7),
  f32x4min: simd(0xe8),
  f32x4max: simd(0xe9),
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  br: (d: number) => [0x0c, ...uleb(d)],
  brIf: (d: number) => [0x0d, ...uleb(d)],
  end: [0x0b]
}

/** A function under construction, with named params and locals. */
export class Fn {
  readonly params: ValType[] = []
  readonly locals: ValType[] = []
  readonly body: number[] = []
  /** Code run once at entry (hoisted vector constants). */
  readonly prologue: number[] = []
  private readonly index = new Map<string, number>()
  private readonly consts = new Map<string, string>()

  constructor(readonly exportName: string) {}

  /** Declares parameters (all before any local). */
  param(t: ValType, ...names: string[]): this {
    for (const n of names) this.index.set(n, this.params.push(t) - 1)
    return this
  }

  /** Declares locals. */
  local(t: ValType, ...names: string[]): this {
    for (const n of names) this.index.set(n, this.params.length + this.locals.push(t) - 1)
    return this
  }

  get(n: string): number[] {
    return [0x20, ...uleb(this.idx(n))]
  }

  /** A splatted f32x4 constant, materialised once in the prologue. */
  constV(v: number): number[] {
    return this.hoist(`f${v}`, [...I.f32(v), ...I.f32x4splat])
  }

  /** A splatted i32x4 constant, materialised once in the prologue. */
  constI(v: number): number[] {
    return this.hoist(`i${v}`, [...I.i32(v), ...I.i32x4splat])
  }

  private hoist(key: string, code: number[]): number[] {
    let local = this.consts.get(key)
    if (!local) {
      local = `const_${this.consts.size}`
      this.local(V128, local)
      this.prologue.push(...code, ...this.set(local))
      this.consts.set(key, local)
    }
    return this.get(local)
  }

  set(n: string): number[] {
    return [0x21, ...uleb(this.idx(n))]
  }

  tee(n: string): number[] {
    return [0x22, ...uleb(this.idx(n))]
  }

  emit(...code: number[][]): this {
    for (const c of code) this.body.push(...c)
    return this
  }

  /** Address `base + off` of element-loop position `off` (bytes). */
  at(base: string, off = 'i'): number[] {
    return [...this.get(base), ...this.get(off), ...I.i32add]
  }

  /**
   * for (i = 0; i < n·4 bytes; ) — a 4-lane body while 4 elements remain, then a scalar body.
   * Uses locals `i` and `end` (i32).
   */
  elementLoop(n: string, vecStep: number[], scalarStep: number[]): this {
    const loopUntil = (step: number[], stride: number) => [
      ...I.block,
      ...I.loop,
      ...this.get('i'),
      ...this.get('end'),
      ...I.i32ltu,
      ...I.i32eqz,
      ...I.brIf(1),
      ...step,
      ...this.get('i'),
      ...I.i32(stride),
      ...I.i32add,
      ...this.set('i'),
      ...I.br(0),
      ...I.end,
      ...I.end
    ]
    return this.emit(
      [...this.get(n), ...I.i32(-4), ...I.i32and, ...I.i32(2), ...I.i32shl, ...this.set('end')],
      [...I.i32(0), ...this.set('i')],
      loopUntil(vecStep, 16),
      [...this.get(n), ...I.i32(2), ...I.i32shl, ...this.set('end')],
      loopUntil(scalarStep, 4)
    )
  }

  /**
   * Bytes of `for (counter = start; counter < limit; counter += step) { body }` (unsigned
   * compare), not appended to the body, so loops can nest.
   */
  countLoop(
    counter: string,
    limit: number[],
    step: number[],
    body: number[],
    start: number[] = I.i32(0)
  ): number[] {
    return [
      ...start,
      ...this.set(counter),
      ...I.block,
      ...I.loop,
      ...this.get(counter),
      ...limit,
      ...I.i32ltu,
      ...I.i32eqz,
      ...I.brIf(1),
      ...body,
      ...this.get(counter),
      ...step,
      ...I.i32add,
      ...this.set(counter),
      ...I.br(0),
      ...I.end,
      ...I.end
    ]
  }

  /** for (c = 0; c < rows; c++) { body } — uses local `c`. */
  rowLoop(rows: string, body: number[]): this {
    return this.emit(
      [...I.i32(0), ...this.set('c')],
      I.block,
      I.loop,
      [...this.get('c'), ...this.get(rows), ...I.i32ltu, ...I.i32eqz, ...I.brIf(1)],
      body,
      [...this.get('c'), ...I.i32(1), ...I.i32add, ...this.set('c'), ...I.br(0)],
      I.end,
      I.end
    )
  }

  private idx(n: string): number {
    const i = this.index.get(n)
    if (i === undefined) throw new Error(`wasm assembler: unknown local ${n}`)
    return i
  }
}

/** Assembles a module importing memory `env.memory` and exporting the functions. */
export function assemble(fns: Fn[]): Uint8Array {
  const types = section(1, vec(fns.map((f) => [0x60, ...vec(f.params.map((t) => [t])), 0])))
  const imports = section(2, vec([[...name('env'), ...name('memory'), 0x02, 0x00, ...uleb(1)]]))
  const funcs = section(3, vec(fns.map((_, i) => uleb(i))))
  const exports = section(7, vec(fns.map((f, i) => [...name(f.exportName), 0x00, ...uleb(i)])))
  const code = section(
    10,
    vec(
      fns.map((f) => {
        const body = [...vec(f.locals.map((t) => [1, t])), ...f.prologue, ...f.body, ...I.end]
        return [...uleb(body.length), ...body]
      })
    )
  )
  const header = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]
  return new Uint8Array([...header, ...types, ...imports, ...funcs, ...exports, ...code])
}

/** Element-loop bytes for `f` without appending them to its body. */
export function captureLoop(f: Fn, n: string, vecStep: number[], scalarStep: number[]): number[] {
  const start = f.body.length
  f.elementLoop(n, vecStep, scalarStep)
  return f.body.splice(start)
}
