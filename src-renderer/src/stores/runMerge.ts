/**
 * Merging live run events into a loaded RunDetail. Events that arrive while `runs.get` is in
 * flight are buffered and replayed afterwards; duplicates (already in the loaded detail) are
 * dropped, so reopening a running job shows its curves from the start without gaps or doubles.
 */
import type { AppEvent, RunDetail } from '../../../src-preload/contract'

/** True for events about this run that change its detail. */
export function isRunEvent(e: AppEvent, runId: number): boolean {
  switch (e.type) {
    case 'run.steps':
    case 'run.epoch':
    case 'run.log':
    case 'run.status':
      return e.runId === runId
    default:
      return false
  }
}

/** Applies one event to the detail in place; returns true when something changed. */
export function applyRunEvent(d: RunDetail, e: AppEvent): boolean {
  if (!isRunEvent(e, d.id)) return false
  switch (e.type) {
    case 'run.steps': {
      const last = d.steps.length ? d.steps[d.steps.length - 1].step : -Infinity
      const fresh = e.steps.filter((s) => s.step > last)
      if (!fresh.length) return false
      d.steps.push(...fresh)
      return true
    }
    case 'run.epoch': {
      const i = d.epochs.findIndex((x) => x.epoch === e.record.epoch)
      if (i >= 0) d.epochs[i] = e.record
      else {
        d.epochs.push(e.record)
        d.epochs.sort((a, b) => a.epoch - b.epoch)
      }
      d.epochsDone = Math.max(d.epochsDone, e.record.epoch)
      const r1 = e.record.metrics.recall['1']
      const best = d.bestMetrics?.recall['1']
      if (r1 !== undefined && (best === undefined || r1 > best)) {
        d.bestMetrics = e.record.metrics
        d.bestEpoch = e.record.epoch
      }
      return true
    }
    case 'run.log': {
      const dup = d.log.some((l) => l.time === e.entry.time && l.message === e.entry.message)
      if (dup) return false
      d.log.push(e.entry)
      return true
    }
    case 'run.status': {
      d.status = e.status
      d.message = e.message
      return true
    }
    default:
      return false
  }
}
