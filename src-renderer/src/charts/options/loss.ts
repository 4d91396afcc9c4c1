/** The loss curves of one run. */
import type { StepRecord } from '../../../../src-preload/contract'
import { SERIES_COLORS } from '../echarts-colors'
import { smoothedPair, stepAxis, type ChartOption } from './common'

/** Total loss, L_ds and CE per step, smoothed with EMA weight `smoothing`. */
export function lossOption(steps: readonly StepRecord[], smoothing: number): ChartOption {
  const xs = steps.map((s) => s.step)
  const series: object[] = [
    ...smoothedPair(
      'total loss',
      xs,
      steps.map((s) => s.loss),
      smoothing,
      SERIES_COLORS[0]
    )
  ]
  if (steps.some((s) => s.lds !== null))
    series.push(
      ...smoothedPair(
        'L_ds',
        xs,
        steps.map((s) => s.lds),
        smoothing,
        SERIES_COLORS[1]
      )
    )
  if (steps.some((s) => s.ce !== null))
    series.push(
      ...smoothedPair(
        'CE (HGNN)',
        xs,
        steps.map((s) => s.ce),
        smoothing,
        SERIES_COLORS[2]
      )
    )
  return {
    // Live charts update several times a second: animating each update only makes them jump.
    animation: false,
    grid: { left: 50, right: 20, top: 36, bottom: 40 },
    legend: {
      top: 0,
      data: series.map((s) => (s as { name: string }).name).filter((n, i, a) => a.indexOf(n) === i)
    },
    tooltip: {
      trigger: 'axis',
      valueFormatter: (v: number) => (v == null ? '—' : Number(v).toFixed(4))
    },
    xAxis: stepAxis,
    yAxis: { type: 'value', scale: true },
    series
  }
}
