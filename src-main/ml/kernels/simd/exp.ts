/**
 * exp on [-6, 0] (what exp(−relu6(ℓ)) needs) as inline SIMD and scalar code: Cody–Waite
 * reduction by ln 2, a degree-7 Taylor polynomial on |r| ≤ ln2/2 (truncation < 5e-9 relative)
 * and 2^k built in the exponent bits.
 */
import { type Fn, I } from './assembler'

const LOG2E = 1.4426950408889634
const LN2_HI = 0.693359375
const LN2_LO = -2.1219444e-4
const EXP_COEFS = [1 / 5040, 1 / 720, 1 / 120, 1 / 24, 1 / 6, 1 / 2, 1, 1]

/** Emits code leaving exp(x) (f32x4) on the stack; x in local `x`, uses v128 locals `k`, `r`. */
export function expV(f: Fn, x: string): number[] {
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
export function expS(f: Fn, x: string): number[] {
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
