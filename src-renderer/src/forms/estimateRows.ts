/**
 * The Review step's time estimate broken into its parts (trustcore's `ProbeResult.estimate`, see
 * API-NOTES), as label/value rows. Pure, so it is unit-tested.
 */
import { formatDuration } from '../format'

/** The parts of a whole-run estimate, in seconds (the fields of the contract's RunEstimate). */
export interface EstimateBreakdown {
  startupSec: number
  featuresSec: number
  featuresCached: boolean
  baselineSec: number
  trainSec: number
  evalSec: number
  refitSec: number
  totalSec: number
}

/** Rows for the estimate: every part that costs time, then the whole run. */
export function estimateRows(e: EstimateBreakdown, frozen: boolean): [string, string][] {
  const rows: [string, string][] = [['Start-up', `≈ ${formatDuration(e.startupSec)}`]]
  if (frozen)
    rows.push([
      'Backbone features',
      e.featuresCached ? 'cached (0 s)' : `≈ ${formatDuration(e.featuresSec)}`
    ])
  rows.push(['Untrained baseline', `≈ ${formatDuration(e.baselineSec)}`])
  rows.push(['Training', `≈ ${formatDuration(e.trainSec)}`])
  rows.push(['Evaluation', `≈ ${formatDuration(e.evalSec)}`])
  if (e.refitSec > 0) rows.push(['Refit on all classes', `≤ ${formatDuration(e.refitSec)}`])
  rows.push(['Whole run', `≈ ${formatDuration(e.totalSec)}`])
  return rows
}
