/**
 * Base class of every metric loss (pytorch-metric-learning style): it owns option and input
 * checking, variable naming and registration, checkpoint I/O and disposal; a subclass only
 * declares its variables and computes the loss.
 */
import * as tf from '@tensorflow/tfjs'
import type { LossName, LossOptions, MetricLoss, ParamGroup } from './types'

/** How one variable is registered. */
interface WeightEntry {
  variable: tf.Variable
  /** Stored [in, out]/[D, C] for fast products but exported in PyTorch's [out, in]/[C, D] layout. */
  transposed: boolean
}

/** Options for `addVariable`. */
export interface AddVariableOptions {
  /** Optimiser group of a trainable variable; omit for a non-trainable buffer (e.g. BatchNorm running stats). */
  group?: ParamGroup['name']
  /** The tensor is held transposed internally and exported/imported transposed back. */
  transposed?: boolean
}

/** Throws unless `v` is a positive integer. */
export function requirePositiveInt(what: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) throw new Error(`${what} must be a positive integer, got ${v}`)
}

/** Throws unless `v` is a finite number, optionally > 0 or ≥ 0. */
export function requireFinite(
  what: string,
  v: number,
  sign: 'positive' | 'non-negative' | 'any' = 'any'
): void {
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new Error(`${what} must be a finite number, got ${v}`)
  if (sign === 'positive' && !(v > 0)) throw new Error(`${what} must be > 0, got ${v}`)
  if (sign === 'non-negative' && !(v >= 0)) throw new Error(`${what} must be ≥ 0, got ${v}`)
}

/** Shared plumbing of all losses; subclasses implement `compute`. */
export abstract class BaseMetricLoss implements MetricLoss {
  abstract readonly name: LossName
  readonly paramGroups: ParamGroup[] = []
  /** Smallest batch the loss accepts (HIST's BatchNorm needs 2). */
  protected minBatchSize = 1
  private readonly entries = new Map<string, WeightEntry>()
  private disposed = false

  protected constructor(protected readonly opts: LossOptions) {
    requirePositiveInt('numClasses', opts.numClasses)
    requirePositiveInt('embeddingSize', opts.embeddingSize)
    if (!Number.isInteger(opts.seed)) throw new Error(`seed must be an integer, got ${opts.seed}`)
  }

  /** Computes the loss on already-validated inputs. */
  protected abstract compute(
    embeddings: tf.Tensor2D,
    labels: tf.Tensor1D
  ): { loss: tf.Scalar; parts: Record<string, tf.Scalar> }

  /** Full variable name `<scope>/<key>` (scope defaults to the loss name). */
  protected varName(key: string): string {
    return `${this.opts.scope ?? this.name}/${key}`
  }

  /** Creates, names and registers a variable from `init` (which it disposes). */
  protected addVariable(key: string, init: tf.Tensor, o: AddVariableOptions = {}): tf.Variable {
    const name = this.varName(key)
    if (tf.engine().registeredVariables[name]) {
      init.dispose()
      throw new Error(
        `variable name "${name}" is already in use: dispose the previous ${this.name} loss or set LossOptions.scope`
      )
    }
    const variable = tf.variable(init, o.group !== undefined, name)
    init.dispose()
    this.entries.set(name, { variable, transposed: o.transposed ?? false })
    if (o.group) {
      let group = this.paramGroups.find((g) => g.name === o.group)
      if (!group) {
        group = { name: o.group, variables: [] }
        this.paramGroups.push(group)
      }
      group.variables.push(variable)
    }
    return variable
  }

  /** Validates shapes, dtypes and the label range, then computes. */
  forward(
    embeddings: tf.Tensor2D,
    labels: tf.Tensor1D
  ): { loss: tf.Scalar; parts: Record<string, tf.Scalar> } {
    if (this.disposed) throw new Error(`${this.name}: forward after dispose`)
    checkInputs(this.name, embeddings, labels, this.opts, this.minBatchSize)
    return this.compute(embeddings, labels)
  }

  getWeights(): Record<string, tf.Tensor> {
    const out: Record<string, tf.Tensor> = {}
    for (const [name, e] of this.entries)
      out[name] = e.transposed ? tf.transpose(e.variable) : tf.clone(e.variable)
    return out
  }

  setWeights(w: Record<string, tf.Tensor>): void {
    // Check everything first so that a bad checkpoint leaves the loss untouched.
    for (const [name, e] of this.entries) {
      const t = w[name]
      if (!t) throw new Error(`${this.name}.setWeights: missing "${name}"`)
      const want = e.transposed ? [...e.variable.shape].reverse() : e.variable.shape
      if (t.shape.join(',') !== want.join(',')) {
        throw new Error(
          `${this.name}.setWeights: "${name}" has shape [${t.shape}], expected [${want}]`
        )
      }
    }
    for (const [name, e] of this.entries) {
      tf.tidy(() => {
        const t = tf.cast(w[name], 'float32')
        e.variable.assign(e.transposed ? tf.transpose(t) : t)
      })
    }
  }

  dispose(): void {
    if (this.disposed) return
    this.disposed = true
    for (const e of this.entries.values()) e.variable.dispose()
    this.entries.clear()
  }
}

/** Input checking shared by all losses; throws with a message naming the loss and the problem. */
export function checkInputs(
  who: string,
  embeddings: tf.Tensor,
  labels: tf.Tensor,
  opts: Pick<LossOptions, 'numClasses' | 'embeddingSize'>,
  minBatchSize = 1
): void {
  if (embeddings.rank !== 2)
    throw new Error(`${who}: embeddings must be [N, D], got shape [${embeddings.shape}]`)
  if (embeddings.dtype !== 'float32')
    throw new Error(`${who}: embeddings must be float32, got ${embeddings.dtype}`)
  const [n, d] = embeddings.shape
  if (d !== opts.embeddingSize)
    throw new Error(`${who}: embedding size ${d} ≠ configured ${opts.embeddingSize}`)
  if (n < minBatchSize)
    throw new Error(`${who}: needs a batch of at least ${minBatchSize}, got ${n}`)
  if (labels.rank !== 1 || labels.shape[0] !== n) {
    throw new Error(
      `${who}: labels must be [${n}] to match the embeddings, got shape [${labels.shape}]`
    )
  }
  if (labels.dtype !== 'int32') throw new Error(`${who}: labels must be int32, got ${labels.dtype}`)
  // N ints: a negligible read on CPU backends, and a wrong label would otherwise silently
  // become an all-zero one-hot row. On webgpu only labels still held on the host are checked
  // (a synchronous download is impossible there in Node); the trainer's labels always are,
  // because they are made from a JS array just before the step.
  const ys = hostValues(labels)
  if (!ys) return
  for (let i = 0; i < ys.length; i++) {
    if (ys[i] < 0 || ys[i] >= opts.numClasses) {
      throw new Error(`${who}: label ${ys[i]} at index ${i} is outside [0, ${opts.numClasses})`)
    }
  }
}

/** The tensor's values when they can be read synchronously: always on CPU backends; on webgpu only while they are still on the host (not yet uploaded). */
function hostValues(t: tf.Tensor): tf.TypedArray | null {
  if (tf.getBackend() !== 'webgpu') return t.dataSync()
  const map = (tf.backend() as unknown as { tensorMap?: { get(id: object): { values?: unknown } } })
    .tensorMap
  return map?.get(t.dataId)?.values ? t.dataSync() : null
}
