/**
 * What the run view says about a live run's progress: a title, a counter in the phase's own unit
 * and the bar's fraction. Pure, so the wording is unit-tested.
 */
import type { RunProgress, RunStatus } from '../../../src-preload/contract'

/** Titles of the trainer's phases ('refit': training again on all classes, trustcore). */
export const PHASES: Record<string, string> = {
  features: 'Computing backbone features',
  baseline: 'Measuring the untrained model',
  train: 'Training',
  eval: 'Evaluating',
  refit: 'Refitting on all training classes',
  test: 'Final test'
}

export interface ProgressText {
  title: string
  /** e.g. "epoch 2 / 10 · batch 5 / 30", "image 192 / 674"; '' when there is nothing to count. */
  counter: string
  /** Bar fraction over the whole phase; total 0 = indeterminate. */
  done: number
  total: number
}

/**
 * Describes the progress. In the features phase the trainer counts images, not batches; in the
 * evaluation phases the batch fields carry nothing, so only the epoch is shown.
 */
export function describeProgress(
  p: RunProgress | null,
  status: RunStatus,
  pausing: boolean
): ProgressText {
  if (pausing && status === 'running')
    return {
      title: 'Pausing… (at the end of the current batch)',
      counter: p ? describeProgress(p, status, false).counter : '',
      done: 0,
      total: 0
    }
  if (status === 'paused') return { title: 'Paused', counter: '', done: 0, total: 0 }
  if (!p)
    return {
      title: status === 'queued' ? 'Waiting for the current run to finish' : 'Starting…',
      counter: '',
      done: 0,
      total: 0
    }
  const title = PHASES[p.phase] ?? p.phase
  const epoch = `epoch ${p.epoch} / ${p.epochs}`
  const phase: string = p.phase
  switch (phase) {
    case 'features':
      return { title, counter: `image ${p.batch} / ${p.batches}`, done: p.batch, total: p.batches }
    case 'train':
    case 'refit':
      return {
        title,
        counter: `${epoch} · batch ${p.batch} / ${p.batches}`,
        done: (p.epoch - 1) * p.batches + p.batch,
        total: p.epochs * p.batches
      }
    case 'eval':
      return { title, counter: epoch, done: p.epoch, total: p.epochs }
    default:
      return { title, counter: '', done: 0, total: 0 }
  }
}
