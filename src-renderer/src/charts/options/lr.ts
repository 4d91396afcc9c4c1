/** The learning-rate curve of one run. */
import type { StepRecord } from '../../../../src-preload/contract'
import { SERIES_COLORS } from '../echarts-colors'
import { thinIndices } from '../smoothing'
import { line, MAX_POINTS, stepAxis, type ChartOption, type Pt } from './common'

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
      axisLabel: { formatter: (v: number) => v.toExponential(0) }
    },
    series: [line('learning rate', data, SERIES_COLORS[4], { step: 'end' })]
  }
}
