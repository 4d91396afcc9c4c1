/** Curves of several runs overlaid. */
import type { EpochRecord, StepRecord } from '../../../../src-preload/contract'
import { SERIES_COLORS } from '../echarts-colors'
import { ema, thinIndices } from '../smoothing'
import { epochAxis, line, MAX_POINTS, percentAxis, stepAxis, type ChartOption } from './common'

/** Overlaid smoothed total-loss curves of several runs. */
export function compareLossOption(
  runs: { name: string; steps: readonly StepRecord[] }[],
  smoothing: number
): ChartOption {
  return {
    grid: { left: 50, right: 20, top: 36, bottom: 40 },
    legend: { top: 0, type: 'scroll' },
    tooltip: {
      trigger: 'axis',
      valueFormatter: (v: number) => (v == null ? '—' : Number(v).toFixed(4))
    },
    xAxis: stepAxis,
    yAxis: { type: 'value', scale: true },
    series: runs.map((r, i) => {
      const sm = ema(
        r.steps.map((s) => s.loss),
        smoothing
      )
      const idx = thinIndices(r.steps.length, MAX_POINTS)
      return line(
        r.name,
        idx.map((j) => [r.steps[j].step, sm[j]]),
        SERIES_COLORS[i % SERIES_COLORS.length]
      )
    })
  }
}

/** Overlaid R@1 (solid) per epoch of several runs. */
export function compareMetricOption(
  runs: { name: string; epochs: readonly EpochRecord[] }[],
  key = '1'
): ChartOption {
  return {
    grid: { left: 50, right: 20, top: 36, bottom: 40 },
    legend: { top: 0, type: 'scroll' },
    tooltip: {
      trigger: 'axis',
      valueFormatter: (v: number) => (v == null ? '—' : `${v.toFixed(1)} %`)
    },
    xAxis: epochAxis,
    yAxis: percentAxis,
    series: runs.map((r, i) =>
      line(
        r.name,
        r.epochs.map((e) => [
          e.epoch,
          e.metrics.recall[key] === undefined ? null : +(e.metrics.recall[key] * 100).toFixed(2)
        ]),
        SERIES_COLORS[i % SERIES_COLORS.length],
        { showSymbol: true, symbolSize: 5 }
      )
    )
  }
}
