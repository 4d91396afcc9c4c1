/**
 * ECharts option builders: plain functions from contract data to chart options (no DOM), so the
 * views stay small and the data shaping is unit-tested.
 */
import type {
  ClassRecall,
  ClassSummary,
  EpochRecord,
  MapPoint,
  StepRecord
} from '../../../src-preload/contract'
import { SERIES_COLORS } from './echarts-colors'
import { ema, thinIndices } from './smoothing'

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
const stepAxis = {
  type: 'value',
  name: 'step',
  nameLocation: 'middle',
  nameGap: 26,
  minInterval: 1,
  min: 'dataMin',
  max: 'dataMax'
}

/** The x axis of per-epoch charts: whole epochs from 1, at least up to 2 so one point has room. */
const epochAxis = {
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

type Pt = [number, number | null]

/** An ECharts option object (kept loose: ECharts' own types are too strict to build piecewise). */
export type ChartOption = Record<string, unknown>

function line(name: string, data: Pt[], color: string, extra: object = {}): ChartOption {
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
function smoothedPair(
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

/** The Recall@K keys present in the records, sorted by K. */
export function recallKeys(
  records: readonly { metrics: { recall: Record<string, number> } }[]
): string[] {
  const keys = new Set<string>()
  for (const r of records) for (const k of Object.keys(r.metrics.recall)) keys.add(k)
  return [...keys].sort((a, b) => Number(a) - Number(b))
}

/** Recall@K and MAP@R per epoch, in percent. */
export function metricsOption(
  epochs: readonly EpochRecord[],
  bestEpoch: number | null
): ChartOption {
  const keys = recallKeys(epochs).slice(0, 6)
  const pct = (v: number | undefined): number | null =>
    v === undefined ? null : +(v * 100).toFixed(2)
  const series: object[] = keys.map((k, i) =>
    line(
      `R@${k}`,
      epochs.map((e) => [e.epoch, pct(e.metrics.recall[k])]),
      SERIES_COLORS[i % SERIES_COLORS.length],
      {
        showSymbol: true,
        symbol: 'circle',
        symbolSize: 5
      }
    )
  )
  series.push(
    line(
      'MAP@R',
      epochs.map((e) => [e.epoch, pct(e.metrics.mapAtR)]),
      SERIES_COLORS[6],
      {
        showSymbol: true,
        symbolSize: 5,
        lineStyle: { width: 2, type: 'dashed', color: SERIES_COLORS[6] }
      }
    )
  )
  if (bestEpoch !== null && series.length)
    (series[0] as Record<string, unknown>).markLine = {
      silent: true,
      symbol: 'none',
      label: { formatter: 'best' },
      lineStyle: { type: 'dotted' },
      data: [{ xAxis: bestEpoch }]
    }
  return {
    grid: { left: 50, right: 20, top: 36, bottom: 40 },
    legend: { top: 0 },
    tooltip: {
      trigger: 'axis',
      valueFormatter: (v: number) => (v == null ? '—' : `${v.toFixed(1)} %`)
    },
    xAxis: epochAxis,
    yAxis: percentAxis,
    series
  }
}

/** Bins for a histogram of class sizes: [from, to, classes in bin]. */
export function sizeBins(
  counts: number[],
  maxBins = 20
): { from: number; to: number; n: number }[] {
  if (!counts.length) return []
  const lo = Math.min(...counts)
  const hi = Math.max(...counts)
  const width = Math.max(1, Math.ceil((hi - lo + 1) / maxBins))
  const bins: { from: number; to: number; n: number }[] = []
  for (let f = lo; f <= hi; f += width) bins.push({ from: f, to: f + width - 1, n: 0 })
  for (const c of counts) bins[Math.floor((c - lo) / width)].n++
  return bins
}

/**
 * Images per class: one bar per class (clickable, data = class id) for up to `maxBars` classes,
 * else a histogram of class sizes.
 */
export function classSizeOption(classes: readonly ClassSummary[], maxBars = 80): ChartOption {
  if (classes.length <= maxBars) {
    return {
      grid: { left: 50, right: 16, top: 30, bottom: 70 },
      tooltip: { trigger: 'item', formatter: '{b}: {c} images' },
      xAxis: {
        type: 'category',
        data: classes.map((c) => c.name),
        axisLabel: {
          rotate: 45,
          interval: classes.length > 30 ? 'auto' : 0,
          width: 80,
          overflow: 'truncate'
        }
      },
      yAxis: { type: 'value', name: 'images', minInterval: 1 },
      series: [
        {
          type: 'bar',
          data: classes.map((c) => ({
            value: c.imageCount,
            classId: c.id,
            itemStyle: { color: c.split === 'test' ? SERIES_COLORS[1] : SERIES_COLORS[0] }
          })),
          barMaxWidth: 28,
          cursor: 'pointer'
        }
      ]
    }
  }
  const bins = sizeBins(classes.map((c) => c.imageCount))
  return {
    grid: { left: 50, right: 16, top: 30, bottom: 44 },
    tooltip: {
      trigger: 'item',
      formatter: (p: { name: string; value: number }) => `${p.value} classes with ${p.name} images`
    },
    xAxis: {
      type: 'category',
      name: 'images in a class',
      nameLocation: 'middle',
      nameGap: 28,
      data: bins.map((b) => (b.from === b.to ? String(b.from) : `${b.from}–${b.to}`))
    },
    yAxis: { type: 'value', name: 'classes', minInterval: 1 },
    series: [
      {
        type: 'bar',
        data: bins.map((b) => b.n),
        barMaxWidth: 40,
        itemStyle: { color: SERIES_COLORS[0] }
      }
    ]
  }
}

/** Most classes that get their own legend entry in the embedding map. */
export const MAP_LEGEND_LIMIT = 40

/** The embedding map: one scatter series per class (legend filter) or, for many classes, one series coloured by class. */
export function mapOption(
  points: readonly MapPoint[],
  className: (id: number) => string
): ChartOption {
  const byClass = new Map<number, MapPoint[]>()
  for (const p of points) {
    const xs = byClass.get(p.classId)
    if (xs) xs.push(p)
    else byClass.set(p.classId, [p])
  }
  const classIds = [...byClass.keys()].sort((a, b) => a - b)
  const base = {
    grid: { left: 40, right: classIds.length <= MAP_LEGEND_LIMIT ? 170 : 20, top: 16, bottom: 30 },
    tooltip: {
      trigger: 'item',
      formatter: (p: { data: { name?: string }; seriesName: string }) => p.data.name ?? p.seriesName
    },
    // The projection's axes have no meaning, so they are not drawn.
    xAxis: { type: 'value', scale: true, show: false },
    yAxis: { type: 'value', scale: true, show: false },
    dataZoom: [
      { type: 'inside', xAxisIndex: 0 },
      { type: 'inside', yAxisIndex: 0 }
    ]
  }
  const symbolSize = points.length > 5000 ? 3 : points.length > 1000 ? 5 : 7
  if (classIds.length <= MAP_LEGEND_LIMIT) {
    return {
      ...base,
      legend: { type: 'scroll', orient: 'vertical', right: 0, top: 10, bottom: 10 },
      series: classIds.map((cid, i) => ({
        name: className(cid),
        type: 'scatter',
        symbolSize,
        large: points.length > 5000,
        itemStyle: { color: palette(i) },
        data: byClass.get(cid)!.map((p) => ({
          value: [p.x, p.y],
          imageId: p.imageId,
          name: `${className(cid)} · image ${p.imageId}`
        }))
      }))
    }
  }
  const order = new Map(classIds.map((c, i) => [c, i]))
  return {
    ...base,
    series: [
      {
        name: 'images',
        type: 'scatter',
        symbolSize,
        large: points.length > 5000,
        data: points.map((p) => ({
          value: [p.x, p.y],
          imageId: p.imageId,
          name: `${className(p.classId)} · image ${p.imageId}`,
          itemStyle: { color: palette(order.get(p.classId) ?? 0) }
        }))
      }
    ]
  }
}

/** Distinct colours for many classes: the series colours, then evenly spaced hues. */
export function palette(i: number): string {
  if (i < SERIES_COLORS.length) return SERIES_COLORS[i]
  const hue = (i * 137.508) % 360
  return `hsl(${hue.toFixed(0)}, 62%, 52%)`
}

/**
 * Per-class R@1 of several runs as grouped horizontal bars; classes sorted by the difference
 * between the first two runs, so the classes that changed most come first.
 */
export function perClassOption(
  runs: { name: string; rows: readonly ClassRecall[] }[],
  maxClasses = 40
): { option: ChartOption; shown: number; total: number } {
  const names = new Map<number, string>()
  for (const r of runs) for (const c of r.rows) names.set(c.classId, c.className)
  const val = (run: number, cid: number): number | null =>
    runs[run]?.rows.find((c) => c.classId === cid)?.recallAt1 ?? null
  const ids = [...names.keys()]
  ids.sort(
    (a, b) =>
      Math.abs((val(0, b) ?? 0) - (val(1, b) ?? 0)) - Math.abs((val(0, a) ?? 0) - (val(1, a) ?? 0))
  )
  const shown = ids.slice(0, maxClasses).reverse()
  return {
    shown: shown.length,
    total: ids.length,
    option: {
      grid: { left: 140, right: 24, top: 30, bottom: 30 },
      legend: { top: 0 },
      tooltip: {
        trigger: 'axis',
        axisPointer: { type: 'shadow' },
        valueFormatter: (v: number) => `${v?.toFixed(1)} %`
      },
      xAxis: { type: 'value', max: 100, axisLabel: { formatter: '{value} %' } },
      yAxis: {
        type: 'category',
        data: shown.map((id) => names.get(id)),
        axisLabel: { width: 130, overflow: 'truncate' }
      },
      series: runs.map((r, i) => ({
        name: r.name,
        type: 'bar',
        itemStyle: { color: SERIES_COLORS[i % SERIES_COLORS.length] },
        data: shown.map((id) => {
          const v = val(i, id)
          return v === null ? null : +(v * 100).toFixed(2)
        })
      }))
    }
  }
}

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
