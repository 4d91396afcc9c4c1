/** Shared pieces of the ECharts option builders: axes, line series, smoothing, colours. */
import { SERIES_COLORS } from '../echarts-colors'
import { ema, thinIndices } from '../smoothing'

/** A percent axis that hugs the data but never goes past 0 % or 100 %. */
export const percentAxis = {
  type: 'value',
  // Rounded to 5 % so the end labels do not collide with the regular ticks.
  min: (v: { min: number; max: number }): number =>
    Math.max(0, Math.floor((v.min - Math.max(1, (v.max - v.min) * 0.15)) / 5) * 5),
  max: (v: { min: number; max: number }): number =>
    Math.min(100, Math.ceil((v.max + Math.max(1, (v.max - v.min) * 0.15)) / 5) * 5),
  axisLabel: { formatter: '{value} %' }
}

/** The x axis of per-step curves: whole steps only. */
export const stepAxis = {
  type: 'value',
  name: 'step',
  nameLocation: 'middle',
  nameGap: 26,
  minInterval: 1,
  min: 'dataMin',
  max: 'dataMax'
}

/** The x axis of per-epoch charts: whole epochs from 1, at least up to 2 so one point has room. */
export const epochAxis = {
  type: 'value',
  name: 'epoch',
  nameLocation: 'middle',
  nameGap: 26,
  minInterval: 1,
  min: 1,
  max: (v: { max: number }): number => Math.max(2, v.max)
}

/** Most points drawn per line; longer runs are thinned (after smoothing, so nothing is lost). */
export const MAX_POINTS = 2000

export type Pt = [number, number | null]

/** An ECharts option object (kept loose: ECharts' own types are too strict to build piecewise). */
export type ChartOption = Record<string, unknown>

export function line(name: string, data: Pt[], color: string, extra: object = {}): ChartOption {
  return {
    name,
    type: 'line',
    data,
    showSymbol: false,
    symbol: 'none',
    sampling: 'lttb',
    connectNulls: false,
    lineStyle: { width: 2, color },
    itemStyle: { color },
    emphasis: { disabled: true },
    animation: false,
    ...extra
  }
}

/** Smoothed curve plus a faint raw curve behind it, as TensorBoard draws them. */
export function smoothedPair(
  name: string,
  xs: number[],
  ys: (number | null)[],
  smoothing: number,
  color: string
): object[] {
  const sm = ema(ys, smoothing)
  const idx = thinIndices(xs.length, MAX_POINTS)
  const raw: Pt[] = idx.map((i) => [xs[i], ys[i]])
  const smooth: Pt[] = idx.map((i) => [xs[i], sm[i]])
  if (smoothing <= 0) return [line(name, raw, color)]
  return [
    line(name, smooth, color),
    line(name, raw, color, {
      lineStyle: { width: 1, color, opacity: 0.25 },
      silent: true,
      tooltip: { show: false }
    })
  ]
}

/** Distinct colours for many classes: the series colours, then evenly spaced hues. */
export function palette(i: number): string {
  if (i < SERIES_COLORS.length) return SERIES_COLORS[i]
  const hue = (i * 137.508) % 360
  return `hsl(${hue.toFixed(0)}, 62%, 52%)`
}
