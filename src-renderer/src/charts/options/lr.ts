/** The learning-rate curve of one run. */
import type { StepRecord } from '../../../../src-preload/contract'
import { SERIES_COLORS } from '../echarts-colors'
import { thinIndices } from '../smoothing'
import { line, MAX_POINTS, stepAxis, type ChartOption, type Pt } from './common'

/**
 * A learning-rate tick label: exponent notation with as many digits as the tick needs (up to 3
 * significant), so nearby ticks such as 1e-4 and 1.2e-4 do not both read "1e-4".
 */
export function lrLabel(v: number): string {
  return v === 0 ? '0' : Number(v.toPrecision(3)).toExponential()
}

/** Learning rate per step (log scale when it spans more than one decade). */
export function lrOption(steps: readonly StepRecord[]): ChartOption {
  const idx = thinIndices(steps.length, MAX_POINTS)
  const data: Pt[] = idx.map((i) => [steps[i].step, steps[i].lr])
  const lrs = steps.map((s) => s.lr).filter((v) => v > 0)
  const span = lrs.length ? Math.max(...lrs) / Math.min(...lrs) : 1
  return {
    animation: false,
    grid: { left: 64, right: 20, top: 24, bottom: 40 },
    tooltip: { trigger: 'axis', valueFormatter: (v: number) => Number(v).toExponential(2) },
    xAxis: stepAxis,
    yAxis: {
      type: span > 10 ? 'log' : 'value',
      scale: true,
      axisLabel: { formatter: lrLabel }
    },
    series: [line('learning rate', data, SERIES_COLORS[4], { step: 'end' })]
  }
}
