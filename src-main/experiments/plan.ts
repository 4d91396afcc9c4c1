/**
 * What an experiment queues: the points of a sweep (one axis, or the grid of two) or of the
 * ablation set, each as the config of an ordinary run; and the aggregate status of its runs.
 */
import {
  ABLATION_VARIANTS,
  AblationVariant,
  checkSweepValues,
  type ExperimentStatus,
  type SweepAxis,
  type SweepParam
} from '../../src-preload/contract/experiments'
import type { RunStatus, TrainConfig, TrainConfigInput } from '../../src-preload/contract/runs'
import type { NewPoint } from './repo'

/** A point to queue: its stored description and the config of its run. */
export interface PlannedPoint extends Omit<NewPoint, 'runId'> {
  config: TrainConfigInput
}

/** Formats a swept value compactly (1e-4, not 0.0001; 32, not 32.0). */
export function formatValue(v: number): string {
  if (v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e6)) return v.toExponential()
  return String(Number(v.toPrecision(6)))
}

/** The label of a sweep point: "tau=8" or "tau=8, alpha=1.1". */
export function pointLabel(values: Partial<Record<SweepParam, number>>): string {
  return Object.entries(values)
    .map(([k, v]) => `${k}=${formatValue(v as number)}`)
    .join(', ')
}

/** The fields a swept value sets (images per class only exist with the balanced sampler). */
function patchFor(param: SweepParam, value: number): Partial<TrainConfigInput> {
  return param === 'ipc' ? { ipc: value, sampler: 'balanced' } : { [param]: value }
}

/** One point per value of one axis, or per cell of a two-axis grid (first axis outer). */
export function planSweep(base: TrainConfig, axes: SweepAxis[], name: string): PlannedPoint[] {
  if (axes.length < 1 || axes.length > 2)
    throw new Error(`a sweep has one or two axes, got ${axes.length}`)
  if (axes.length === 2 && axes[0].param === axes[1].param)
    throw new Error('the two axes of a grid must be different parameters')
  axes.forEach((a) => checkSweepValues(a.param, a.values))
  let cells: Partial<Record<SweepParam, number>>[] = [{}]
  for (const axis of axes)
    cells = cells.flatMap((c) => axis.values.map((v) => ({ ...c, [axis.param]: v })))
  return cells.map((values) => {
    let config: TrainConfigInput = { ...base }
    for (const [k, v] of Object.entries(values))
      config = { ...config, ...patchFor(k as SweepParam, v as number) }
    const label = pointLabel(values)
    return { label, values, variant: null, config: { ...config, name: `${name} · ${label}` } }
  })
}

/** One point per ablation variant, in the given order (default: all of them). */
export function planAblation(
  base: TrainConfig,
  variants: AblationVariant[] = AblationVariant.options,
  name: string
): PlannedPoint[] {
  if (new Set(variants).size !== variants.length)
    throw new Error('an ablation variant is listed twice')
  return variants.map((variant) => {
    const v = ABLATION_VARIANTS[variant]
    return {
      label: v.label,
      values: {},
      variant,
      config: { ...base, ...v.patch, name: `${name} · ${v.label}` }
    }
  })
}

/** The experiment's status from its runs' statuses ('removed' for a deleted run). */
export function aggregateStatus(statuses: (RunStatus | 'removed')[]): ExperimentStatus {
  if (!statuses.length) return 'completed'
  const has = (s: RunStatus | 'removed'): boolean => statuses.includes(s)
  if (has('running')) return 'running'
  if (has('queued') || has('paused')) {
    return statuses.some((s) => s !== 'queued') ? 'running' : 'queued'
  }
  if (statuses.every((s) => s === 'completed')) return 'completed'
  if (statuses.every((s) => s === 'failed')) return 'failed'
  if (has('cancelled') && !has('completed')) return 'cancelled'
  return 'partial'
}
