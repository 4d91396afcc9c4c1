/**
 * Sweep values: the text a user types for one swept hyperparameter, parsed to the list of
 * values the sweep queues. Shared by the CLI (`--values`), the Experiments view (live preview)
 * and the service (re-validation), so all three accept and refuse exactly the same input.
 *
 * Accepted forms:
 *   `4,8,16,32,64`      a list
 *   `0.5:2:0.25`        a linear range start:stop:step (stop included when the steps land on it)
 *   `4:64:x2`           a geometric range start:stop:×factor (4, 8, 16, 32, 64)
 *   `1e-4:1e-2:log5`    5 values evenly spaced in log scale from start to stop, both included
 */

/** The hyperparameters a sweep can vary (TrainConfig field names). */
export const SWEEP_PARAMS = [
  'tau',
  'alpha',
  'ls',
  'lr',
  'lrDs',
  'embeddingSize',
  'batchSize',
  'ipc'
] as const
export type SweepParam = (typeof SWEEP_PARAMS)[number]

/** How each parameter is shown and which values it takes (bounds mirror TrainConfig). */
export const SWEEP_PARAM_INFO: Record<
  SweepParam,
  { label: string; integer: boolean; min: number; max: number; minExclusive?: boolean }
> = {
  tau: { label: 'τ (temperature)', integer: false, min: 0, max: 1e6, minExclusive: true },
  alpha: { label: 'α (hardness scale)', integer: false, min: 0, max: 1e6, minExclusive: true },
  ls: { label: 'λs (HGNN CE weight)', integer: false, min: 0, max: 1e6 },
  lr: { label: 'learning rate', integer: false, min: 0, max: 1, minExclusive: true },
  lrDs: { label: 'lr of distributions', integer: false, min: 0, max: 10, minExclusive: true },
  embeddingSize: { label: 'embedding size', integer: true, min: 8, max: 4096 },
  batchSize: { label: 'batch size', integer: true, min: 4, max: 1024 },
  ipc: { label: 'images per class (balanced)', integer: true, min: 2, max: 64 }
}

/** The most values one sweep axis may have (a sweep is one run per value). */
export const MAX_SWEEP_VALUES = 50

/** Bad sweep values; the message says what is wrong with which part of the text. */
export class SweepValuesError extends Error {
  readonly code = 'invalid_sweep_values'
  constructor(message: string) {
    super(message)
    this.name = 'SweepValuesError'
  }
}

export function isSweepParam(s: string): s is SweepParam {
  return (SWEEP_PARAMS as readonly string[]).includes(s)
}

function num(text: string, what: string): number {
  const t = text.trim()
  const n = t === '' ? NaN : Number(t)
  if (!Number.isFinite(n)) throw new SweepValuesError(`${what} "${t}" is not a number`)
  return n
}

/** Rounds away float noise of repeated steps (0.1 + 0.2) to 12 significant digits. */
const clean = (x: number): number => Number(x.toPrecision(12))

function rangeValues(parts: string[]): number[] {
  const start = num(parts[0], 'range start')
  const stop = num(parts[1], 'range stop')
  const stepText = parts[2].trim()
  const out: number[] = []
  if (/^log\d+$/i.test(stepText)) {
    const count = Number(stepText.slice(3))
    if (count < 2) throw new SweepValuesError(`"${stepText}": a log range needs at least 2 values`)
    if (start <= 0 || stop <= 0)
      throw new SweepValuesError('a log range needs a positive start and stop')
    if (count > MAX_SWEEP_VALUES) throw tooMany(count)
    const a = Math.log(start)
    const b = Math.log(stop)
    for (let i = 0; i < count; i++) out.push(clean(Math.exp(a + ((b - a) * i) / (count - 1))))
    out[0] = start
    out[count - 1] = stop
    return out
  }
  if (/^[x×*]/i.test(stepText)) {
    const f = num(stepText.slice(1), 'factor')
    if (start <= 0) throw new SweepValuesError('a geometric range needs a positive start')
    if (f === 1 || f <= 0) throw new SweepValuesError(`factor ${f} must be positive and not 1`)
    if (f > 1 !== stop >= start)
      throw new SweepValuesError(`factor ${f} never goes from ${start} to ${stop}`)
    for (let v = start; f > 1 ? v <= stop * (1 + 1e-9) : v >= stop * (1 - 1e-9); v *= f) {
      out.push(clean(v))
      if (out.length > MAX_SWEEP_VALUES) throw tooMany(out.length)
    }
    return out
  }
  const step = num(stepText, 'step')
  if (step === 0) throw new SweepValuesError('step must not be 0')
  if (step > 0 !== stop >= start)
    throw new SweepValuesError(`step ${step} never goes from ${start} to ${stop}`)
  const n = Math.floor((stop - start) / step + 1e-9)
  if (n + 1 > MAX_SWEEP_VALUES) throw tooMany(n + 1)
  for (let i = 0; i <= n; i++) out.push(clean(start + i * step))
  return out
}

const tooMany = (n: number): SweepValuesError =>
  new SweepValuesError(`${n} values; a sweep axis takes at most ${MAX_SWEEP_VALUES}`)

/** Checks values against the parameter's type and bounds; throws SweepValuesError. */
export function checkSweepValues(param: SweepParam, values: number[]): number[] {
  const info = SWEEP_PARAM_INFO[param]
  if (!values.length) throw new SweepValuesError(`no values for ${param}`)
  if (values.length > MAX_SWEEP_VALUES) throw tooMany(values.length)
  const seen = new Set<number>()
  for (const v of values) {
    if (!Number.isFinite(v)) throw new SweepValuesError(`${param}: ${v} is not a finite number`)
    if (info.integer && !Number.isInteger(v))
      throw new SweepValuesError(`${param} takes whole numbers; ${v} is not one`)
    const low = info.minExclusive ? v <= info.min : v < info.min
    if (low || v > info.max)
      throw new SweepValuesError(
        `${param} = ${v} is out of range (${info.minExclusive ? '>' : '≥'} ${info.min} and ≤ ${info.max})`
      )
    if (seen.has(v)) throw new SweepValuesError(`${param}: ${v} is listed twice`)
    seen.add(v)
  }
  return values
}

/** Parses the text of one sweep axis (see the file comment) and checks it for `param`. */
export function parseSweepValues(param: SweepParam, text: string): number[] {
  const t = text.trim()
  if (!t) throw new SweepValuesError(`no values given for ${param}`)
  let values: number[]
  if (t.includes(':')) {
    if (t.includes(','))
      throw new SweepValuesError(`"${t}": use either a list (a,b,c) or a range (start:stop:step)`)
    const parts = t.split(':')
    if (parts.length !== 3)
      throw new SweepValuesError(
        `"${t}": a range is start:stop:step, start:stop:xFACTOR or start:stop:logN`
      )
    values = rangeValues(parts)
  } else {
    values = t.split(',').map((p, i) => num(p, `value ${i + 1}`))
  }
  return checkSweepValues(param, values)
}
