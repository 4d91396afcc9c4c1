/**
 * Hand-assembled WebAssembly SIMD kernels that run inside the tfjs wasm backend's own memory.
 *
 * Why: on wasm every tfjs op is one pass over memory plus an allocation. At SOP scale the
 * 11,318×512 class tables make each pass expensive, and an Adam update or the Mahalanobis
 * gradient written as ops is a dozen passes. Plain JS loops are slower than tfjs's SIMD
 * kernels, so the fused loops are emitted here as a tiny wasm module (f32x4 arithmetic) that
 * imports the backend's WebAssembly.Memory and reads/writes tensor buffers in place: one pass,
 * no copies, no downloads.
 *
 * The assembler covers only what the kernels need. wasmSimd.test.ts checks every kernel against
 * a scalar JS reference, including the tails of rows that are not a multiple of 4.
 */
import * as tf from '@tensorflow/tfjs'

// ---------------------------------------------------------------------------------------------
// Minimal assembler

const I32 = 0x7f
const F32 = 0x7d
const V128 = 0x7b
type ValType = typeof I32 | typeof F32 | typeof V128

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
const I = {
  i32: (v: number) => [0x41, ...sleb(v)],
  f32: (v: number) => [0x43, ...new Uint8Array(new Float32Array([v]).buffer)],
  i32add: [0x6a],
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
class Fn {
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
function assemble(fns: Fn[]): Uint8Array {
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

// ---------------------------------------------------------------------------------------------
// exp on [-6, 0] (what exp(−relu6(ℓ)) needs): Cody–Waite reduction by ln 2, a degree-7 Taylor
// polynomial on |r| ≤ ln2/2 (truncation < 5e-9 relative) and 2^k built in the exponent bits.

const LOG2E = 1.4426950408889634
const LN2_HI = 0.693359375
const LN2_LO = -2.1219444e-4
const EXP_COEFS = [1 / 5040, 1 / 720, 1 / 120, 1 / 24, 1 / 6, 1 / 2, 1, 1]

/** Emits code leaving exp(x) (f32x4) on the stack; x in local `x`, uses v128 locals `k`, `r`. */
function expV(f: Fn, x: string): number[] {
  const c = (v: number) => f.constV(v)
  const horner: number[] = [...c(EXP_COEFS[0])]
  for (const k of EXP_COEFS.slice(1))
    horner.push(...f.get('r'), ...I.f32x4mul, ...c(k), ...I.f32x4add)
  return [
    ...f.get(x),
    ...c(LOG2E),
    ...I.f32x4mul,
    ...I.f32x4nearest,
    ...f.set('k'),
    ...f.get(x),
    ...f.get('k'),
    ...c(LN2_HI),
    ...I.f32x4mul,
    ...I.f32x4sub,
    ...f.get('k'),
    ...c(LN2_LO),
    ...I.f32x4mul,
    ...I.f32x4sub,
    ...f.set('r'),
    ...horner,
    // 2^k = bits((k + 127) << 23)
    ...f.get('k'),
    ...I.i32x4truncsatf32x4s,
    ...f.constI(127),
    ...I.i32x4add,
    ...I.i32(23),
    ...I.i32x4shl,
    ...I.f32x4mul
  ]
}

/** Scalar twin of expV; x in f32 local `x`, uses f32 locals `sk`, `sr`. */
function expS(f: Fn, x: string): number[] {
  const horner: number[] = [...I.f32(EXP_COEFS[0])]
  for (const k of EXP_COEFS.slice(1))
    horner.push(...f.get('sr'), ...I.f32mul, ...I.f32(k), ...I.f32add)
  return [
    ...f.get(x),
    ...I.f32(LOG2E),
    ...I.f32mul,
    ...I.f32nearest,
    ...f.set('sk'),
    ...f.get(x),
    ...f.get('sk'),
    ...I.f32(LN2_HI),
    ...I.f32mul,
    ...I.f32sub,
    ...f.get('sk'),
    ...I.f32(LN2_LO),
    ...I.f32mul,
    ...I.f32sub,
    ...f.set('sr'),
    ...horner,
    ...f.get('sk'),
    ...I.i32truncf32s,
    ...I.i32(127),
    ...I.i32add,
    ...I.i32(23),
    ...I.i32shl,
    ...I.f32reinterpret,
    ...I.f32mul
  ]
}

// ---------------------------------------------------------------------------------------------
// Kernels

/**
 * adam(p, g, m, v, po, mo, vo, n, decay, l2, w1, beta2, w2, stepSize, bc2Sqrt, eps), per element
 * with torch.optim.Adam/AdamW's arithmetic:
 *   g' = g + l2·p;  m' = m + w1·(g' − m);  v' = β2·v + (w2·g')·g'
 *   p' = p·decay − stepSize·(m' / (√v' / bc2Sqrt + eps))
 */
function adamFn(): Fn {
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

/**
 * distPrep(mu, lv, p2, rn, bias, rows, cols) — the element-wise part of the Mahalanobis forward,
 * one row (class) at a time, for μ and ℓ [rows, cols]; p2 [rows, 2·cols] receives [iv | mhiv]:
 *   rn[c] = 1/√max(Σ_f μ², 1e-24);  iv = exp(−relu6(ℓ));  mhiv = (μ·rn)·iv;  bias[c] = Σ_f (μ·rn)·mhiv
 */
function distPrepFn(): Fn {
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

/** Element-loop bytes for `f` without appending them to its body. */
function captureLoop(f: Fn, n: string, vecStep: number[], scalarStep: number[]): number[] {
  const start = f.body.length
  f.elementLoop(n, vecStep, scalarStep)
  return f.body.splice(start)
}

/**
 * distBack(mu, lv, p2, rn, active, gs, nb, dmu, dlv, rows, cols) — the element-wise part of the
 * Mahalanobis gradient, per row c with μ̂ = μ·rn[c], iv from p2 = [iv | mhiv] and
 * nb = [negA | negB2] (both [rows, 2·cols]):
 *   t = μ̂·gs[c];  q = negB2 + t;  dμ̂ = iv·(q + t);  dℓ = (negA − μ̂·q)·iv·1[0 < ℓ < 6]
 *   dμ = (dμ̂ − μ̂·⟨dμ̂, μ̂⟩·active[c])·rn[c]
 * (dμ̂ is parked in dmu between the two passes over the row.)
 */
function distBackFn(): Fn {
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

/**
 * transpose(src, dst, rows, cols): dst [cols, rows] = srcᵀ for a row-major src [rows, cols], in
 * 4×4 blocks (four row loads, two rounds of lane shuffles, four column stores) stacked four
 * high so that each destination row receives a whole 64-byte line at a time; scalar loops
 * cover the last rows / columns when a size is not a multiple of 16 / 4.
 */
function transposeFn(): Fn {
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

/** The module's exports (all pointers are byte offsets into the backend's heap). */
export interface SimdKernels {
  /** Fused Adam/AdamW step; see adamFn. */
  adam(
    p: number,
    g: number,
    m: number,
    v: number,
    po: number,
    mo: number,
    vo: number,
    n: number,
    decay: number,
    l2: number,
    w1: number,
    beta2: number,
    w2: number,
    stepSize: number,
    bc2Sqrt: number,
    eps: number
  ): void
  /** Mahalanobis forward element-wise part; see distPrepFn. */
  distPrep(
    mu: number,
    lv: number,
    p2: number,
    rn: number,
    bias: number,
    rows: number,
    cols: number
  ): void
  /** 2-D transpose; see transposeFn. */
  transpose(src: number, dst: number, rows: number, cols: number): void
  /** Mahalanobis backward element-wise part; see distBackFn. */
  distBack(
    mu: number,
    lv: number,
    p2: number,
    rn: number,
    active: number,
    gs: number,
    nb: number,
    dmu: number,
    dlv: number,
    rows: number,
    cols: number
  ): void
}

/** The wasm bytes (exported for the validation test). */
export function simdModuleBytes(): Uint8Array {
  return assemble([adamFn(), distPrepFn(), distBackFn(), transposeFn()])
}

// ---------------------------------------------------------------------------------------------
// Binding to the tfjs wasm backend

/** A WebAssembly.Memory (typed locally: the node tsconfig has no DOM/wasm lib). */
export interface WasmMemory {
  /** The memory's current buffer. */
  readonly buffer: ArrayBuffer
}

/** The WebAssembly API surface used here. */
interface WasmApi {
  Memory: abstract new (...args: never[]) => WasmMemory
  Module: new (bytes: Uint8Array) => object
  Instance: new (module: object, imports: object) => { exports: unknown }
  validate(bytes: Uint8Array): boolean
}

/** The runtime's WebAssembly global. */
export const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly

/** The parts of tfjs-backend-wasm's BackendWasm this module relies on (tfjs 4.x internals). */
export interface WasmBackendInternals {
  wasm: { asm?: { memory?: WasmMemory } }
  dataIdMap: { get(id: tf.DataId): { memoryOffset: number } | undefined }
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo
}

const instances = new WeakMap<WasmMemory, SimdKernels | null>()

/** The kernels bound to a wasm backend's memory, or null when unavailable (other backend, no SIMD, unexpected internals). */
export function simdKernelsFor(backend: unknown): SimdKernels | null {
  const b = backend as Partial<WasmBackendInternals> | undefined
  const memory = b?.wasm?.asm?.memory
  if (!memory || !(memory instanceof wasmApi.Memory)) return null
  if (typeof b?.makeOutput !== 'function' || !b.dataIdMap) return null
  if (instances.has(memory)) return instances.get(memory) ?? null
  let kernels: SimdKernels | null = null
  try {
    const mod = new wasmApi.Module(simdModuleBytes())
    kernels = new wasmApi.Instance(mod, { env: { memory } }).exports as unknown as SimdKernels
  } catch {
    kernels = null // no wasm SIMD in this runtime: callers fall back to tfjs ops
  }
  instances.set(memory, kernels)
  return kernels
}

/** The SIMD kernels of the active backend when it is wasm, else null. */
export function activeSimdKernels(): SimdKernels | null {
  return tf.getBackend() === 'wasm' ? simdKernelsFor(tf.backend()) : null
}

/** Byte offset of a tensor's data in the wasm heap. */
export function heapOffset(backend: WasmBackendInternals, t: tf.TensorInfo): number {
  const entry = backend.dataIdMap.get(t.dataId)
  if (!entry) throw new Error('tensor is not on the wasm backend')
  return entry.memoryOffset
}

/** Runs one SIMD kernel: gets the kernels, the backend and the inputs, returns the output(s) it allocated with `makeOutput` (an array for multi-output kernels). */
export type SimdKernelRun = (
  kernels: SimdKernels,
  backend: WasmBackendInternals,
  inputs: Record<string, tf.TensorInfo>,
  attrs: Record<string, unknown>
) => tf.TensorInfo | tf.TensorInfo[]

/** Registers a tfjs kernel for the wasm backend backed by the SIMD module (idempotent). */
export function registerWasmKernel(kernelName: string, run: SimdKernelRun): void {
  if (tf.getKernel(kernelName, 'wasm')) return
  const kernelFunc = ({
    inputs,
    backend,
    attrs
  }: {
    inputs: tf.NamedTensorInfoMap
    backend: unknown
    attrs?: unknown
  }) => {
    const kernels = simdKernelsFor(backend)
    if (!kernels) throw new Error(`${kernelName}: wasm SIMD kernels unavailable`)
    return run(
      kernels,
      backend as WasmBackendInternals,
      inputs as Record<string, tf.TensorInfo>,
      (attrs ?? {}) as Record<string, unknown>
    )
  }
  tf.registerKernel({
    kernelName,
    backendName: 'wasm',
    kernelFunc: kernelFunc as unknown as tf.KernelFunc
  })
}

const TRANSPOSE = 'HistStudioTranspose2D'

registerWasmKernel(TRANSPOSE, (k, b, { x }) => {
  const [rows, cols] = x.shape
  const out = b.makeOutput([cols, rows], 'float32')
  k.transpose(heapOffset(b, x), heapOffset(b, out), rows, cols)
  return out // a single TensorInfo: runKernel then returns a Tensor, not an array
})

/** xᵀ for a float32 2-D tensor: the SIMD block transpose on wasm (2–3× faster than tfjs's there), else tf.transpose. Not differentiable. */
export function fastTranspose(x: tf.Tensor2D): tf.Tensor2D {
  if (x.dtype === 'float32' && activeSimdKernels())
    return tf.engine().runKernel(TRANSPOSE, { x }) as tf.Tensor2D
  return tf.transpose(x)
}
