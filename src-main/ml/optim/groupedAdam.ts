/**
 * Adam with parameter groups, each with its own learning rate and weight decay — the official
 * HIST recipe (backbone, embedding, distributions at lr_ds, HGNN at lr × factor).
 * `decoupled: false` is torch.optim.Adam (L2 added to the gradient), `decoupled: true` is
 * torch.optim.AdamW. State is kept per variable name, so resuming is exact.
 */
import * as tf from '@tensorflow/tfjs'
import { fusedAdamStep, hasFusedAdam, type AdamStepAttrs } from '../kernels/adam'

/** One parameter group. */
export interface AdamGroup {
  /** Group name, for setLr/getLr (e.g. 'backbone', 'distributions', 'hgnn'). */
  name: string
  /** The variables updated with this group's settings (names must be unique). */
  variables: tf.Variable[]
  /** Learning rate. */
  lr: number
  /** Weight decay. */
  weightDecay: number
}

/** Optimiser-wide settings (PyTorch defaults). */
export interface GroupedAdamOptions {
  /** AdamW-style decoupled weight decay instead of L2 in the gradient (default false). */
  decoupled?: boolean
  /** First-moment decay (default 0.9). */
  beta1?: number
  /** Second-moment decay (default 0.999). */
  beta2?: number
  /** Denominator epsilon (default 1e-8). */
  eps?: number
  /** Use the fused single-pass kernel where the backend has it (default true); false forces plain tfjs ops. */
  fused?: boolean
}

/** Serialisable optimiser state: step count per variable and the moment tensors `<name>/m`, `<name>/v`. */
export interface AdamState {
  /** Number of updates each variable has received. */
  step: Record<string, number>
  /** First and second moments, keyed `<variable name>/m` and `<variable name>/v`. */
  tensors: Record<string, tf.Tensor>
}

interface Slot {
  variable: tf.Variable
  group: AdamGroup
  m: tf.Tensor
  v: tf.Tensor
  step: number
}

/** Adam / AdamW over named parameter groups, matching PyTorch's update exactly. */
export class GroupedAdam {
  private readonly groups: AdamGroup[]
  private readonly slots = new Map<string, Slot>()
  private readonly beta1: number
  private readonly beta2: number
  private readonly eps: number
  private readonly decoupled: boolean
  private readonly fused: boolean
  private disposed = false

  constructor(groups: AdamGroup[], opts: GroupedAdamOptions = {}) {
    this.beta1 = opts.beta1 ?? 0.9
    this.beta2 = opts.beta2 ?? 0.999
    this.eps = opts.eps ?? 1e-8
    this.decoupled = opts.decoupled ?? false
    this.fused = opts.fused ?? true
    for (const [k, b] of [
      ['beta1', this.beta1],
      ['beta2', this.beta2]
    ] as const) {
      if (!(b >= 0 && b < 1)) throw new Error(`GroupedAdam: ${k} must be in [0, 1), got ${b}`)
    }
    if (!(this.eps >= 0)) throw new Error(`GroupedAdam: eps must be ≥ 0, got ${this.eps}`)
    const names = new Set<string>()
    this.groups = groups.map((g) => {
      if (names.has(g.name)) throw new Error(`GroupedAdam: duplicate group name "${g.name}"`)
      names.add(g.name)
      checkHyper(g.name, g.lr, g.weightDecay)
      return { ...g, variables: [...g.variables] }
    })
    for (const group of this.groups) {
      for (const variable of group.variables) {
        if (this.slots.has(variable.name))
          throw new Error(`GroupedAdam: variable "${variable.name}" is in two groups`)
        if (variable.dtype !== 'float32')
          throw new Error(
            `GroupedAdam: variable "${variable.name}" is ${variable.dtype}, not float32`
          )
        // Eager zero state: same numbers as PyTorch's lazy init, and memory use is flat from the start.
        this.slots.set(variable.name, {
          variable,
          group,
          m: tf.zerosLike(variable),
          v: tf.zerosLike(variable),
          step: 0
        })
      }
    }
  }

  /**
   * One update from gradients keyed by variable name (as tf.variableGrads returns). Variables
   * with no gradient are skipped (e.g. a frozen backbone during warm-up) and keep their step
   * count; names the optimiser does not hold are ignored. The caller still owns `grads`.
   */
  applyGradients(grads: Record<string, tf.Tensor>): void {
    this.assertAlive()
    const fused = this.fused && hasFusedAdam()
    for (const slot of this.slots.values()) {
      const g = grads[slot.variable.name]
      if (!g) continue
      if (g.shape.join(',') !== slot.variable.shape.join(',')) {
        throw new Error(
          `GroupedAdam: gradient of "${slot.variable.name}" has shape [${g.shape}], expected [${slot.variable.shape}]`
        )
      }
      const t = slot.step + 1
      const attrs: AdamStepAttrs = {
        lr: slot.group.lr,
        beta1: this.beta1,
        beta2: this.beta2,
        eps: this.eps,
        weightDecay: slot.group.weightDecay,
        decoupled: this.decoupled ? 1 : 0,
        bc1: 1 - this.beta1 ** t,
        bc2: 1 - this.beta2 ** t
      }
      const [m, v] = tf.tidy(() => {
        const gf = g.dtype === 'float32' ? g : tf.cast(g, 'float32')
        const [p2, m2, v2] = fused
          ? fusedAdamStep(slot.variable, gf, slot.m, slot.v, attrs)
          : opsStep(slot, gf, attrs)
        slot.variable.assign(p2)
        return [m2, v2]
      })
      slot.m.dispose()
      slot.v.dispose()
      slot.m = m
      slot.v = v
      slot.step = t
    }
  }

  /** Sets a group's learning rate (e.g. from stepLr each epoch). */
  setLr(groupName: string, lr: number): void {
    const g = this.group(groupName)
    checkHyper(groupName, lr, g.weightDecay)
    g.lr = lr
  }

  /** A group's current learning rate. */
  getLr(groupName: string): number {
    return this.group(groupName).lr
  }

  /** Copies of the state for a checkpoint (the caller disposes the tensors). */
  getState(): AdamState {
    this.assertAlive()
    const state: AdamState = { step: {}, tensors: {} }
    for (const [name, s] of this.slots) {
      state.step[name] = s.step
      state.tensors[`${name}/m`] = tf.clone(s.m)
      state.tensors[`${name}/v`] = tf.clone(s.v)
    }
    return state
  }

  /** Restores a state from getState; every variable must be present with matching shapes. The caller keeps ownership of `state`. */
  setState(state: AdamState): void {
    this.assertAlive()
    for (const [name, s] of this.slots) {
      const step = state.step[name]
      if (!Number.isInteger(step) || step < 0)
        throw new Error(`GroupedAdam.setState: bad or missing step for "${name}"`)
      for (const k of ['m', 'v'] as const) {
        const t = state.tensors[`${name}/${k}`]
        if (!t) throw new Error(`GroupedAdam.setState: missing "${name}/${k}"`)
        if (t.shape.join(',') !== s.variable.shape.join(',')) {
          throw new Error(
            `GroupedAdam.setState: "${name}/${k}" has shape [${t.shape}], expected [${s.variable.shape}]`
          )
        }
      }
    }
    for (const [name, s] of this.slots) {
      s.m.dispose()
      s.v.dispose()
      s.m = tf.tidy(() => tf.cast(state.tensors[`${name}/m`], 'float32').clone())
      s.v = tf.tidy(() => tf.cast(state.tensors[`${name}/v`], 'float32').clone())
      s.step = state.step[name]
    }
  }

  /** Frees the moment tensors (not the variables). */
  dispose(): void {
    if (this.disposed) return
    this.disposed = true
    for (const s of this.slots.values()) tf.dispose([s.m, s.v])
    this.slots.clear()
  }

  private group(name: string): AdamGroup {
    const g = this.groups.find((x) => x.name === name)
    if (!g)
      throw new Error(
        `GroupedAdam: no group "${name}" (have ${this.groups.map((x) => x.name).join(', ')})`
      )
    return g
  }

  private assertAlive(): void {
    if (this.disposed) throw new Error('GroupedAdam: used after dispose')
  }
}

function checkHyper(group: string, lr: number, wd: number): void {
  if (!(Number.isFinite(lr) && lr >= 0))
    throw new Error(`GroupedAdam: lr of group "${group}" must be ≥ 0, got ${lr}`)
  if (!(Number.isFinite(wd) && wd >= 0))
    throw new Error(`GroupedAdam: weightDecay of group "${group}" must be ≥ 0, got ${wd}`)
}

/** The same update as plain tfjs ops (for backends without the fused kernel). */
function opsStep(slot: Slot, g: tf.Tensor, a: AdamStepAttrs): tf.Tensor[] {
  const p = slot.variable
  const wd = a.weightDecay
  const grad = !a.decoupled && wd !== 0 ? tf.add(g, tf.mul(p, wd)) : g
  const p0 = a.decoupled && wd !== 0 ? tf.mul(p, 1 - a.lr * wd) : p
  const m = tf.add(slot.m, tf.mul(tf.sub(grad, slot.m), 1 - a.beta1))
  const v = tf.add(tf.mul(slot.v, a.beta2), tf.mul(tf.square(grad), 1 - a.beta2))
  const denom = tf.add(tf.div(tf.sqrt(v), Math.sqrt(a.bc2)), a.eps)
  const p2 = tf.sub(p0, tf.mul(tf.div(m, denom), a.lr / a.bc1))
  return [p2, m, v]
}

/** PyTorch StepLR: the learning rate for 0-based `epoch` is baseLr · γ^⌊epoch / stepSize⌋. */
export function stepLr(baseLr: number, epoch: number, stepSize: number, gamma: number): number {
  if (!(stepSize > 0)) throw new Error(`stepLr: stepSize must be > 0, got ${stepSize}`)
  return baseLr * gamma ** Math.floor(Math.max(0, epoch) / stepSize)
}
