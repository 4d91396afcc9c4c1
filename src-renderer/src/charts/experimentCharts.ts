/**
 * ECharts options of the Experiments views (pure functions of the experiment, unit-tested):
 * the sensitivity plot of a one-parameter sweep, the heat-map of a two-parameter grid, and the
 * bar chart of an ablation set.
 */
import type { EChartsCoreOption } from 'echarts/core'
import type { ExperimentDetail, ExperimentPoint } from '../../../src-preload/contract'

const pct = (v: number | undefined | null): number | null =>
  v === undefined || v === null ? null : Math.round(v * 10000) / 100

/** Test R@1 and MAP@R (in %) of the selected epoch per value; null where the run has none yet. */
export function sensitivitySeries(e: ExperimentDetail): {
  values: number[]
  r1: (number | null)[]
  mapAtR: (number | null)[]
  baselineR1: number | null
  baselineMapAtR: number | null
} {
  const param = e.axes[0].param
  const pts = [...e.points].sort((a, b) => (a.values[param] ?? 0) - (b.values[param] ?? 0))
  // The untrained model does not depend on the loss hyperparameters; use the first measured one.
  const base = pts.find((p) => p.baselineMetrics)?.baselineMetrics ?? null
  return {
    values: pts.map((p) => p.values[param] ?? NaN),
    r1: pts.map((p) => pct(p.testMetrics?.recall['1'])),
    mapAtR: pts.map((p) => pct(p.testMetrics?.mapAtR)),
    baselineR1: pct(base?.recall['1']),
    baselineMapAtR: pct(base?.mapAtR)
  }
}

/** Whether values span enough decades to want a log x axis (4…64, 1e-4…1e-2). */
export function wantsLogAxis(values: number[]): boolean {
  const pos = values.filter((v) => v > 0)
  return pos.length === values.length && pos.length > 2 && Math.max(...pos) / Math.min(...pos) >= 8
}

/** Sensitivity plot: R@1 and MAP@R vs the swept value; the untrained baseline as dashed lines. */
export function sensitivityOption(e: ExperimentDetail): EChartsCoreOption {
  const s = sensitivitySeries(e)
  const param = e.axes[0].param
  const baseLine = (v: number | null, name: string) =>
    v === null
      ? undefined
      : {
          silent: true,
          symbol: 'none',
          lineStyle: { type: 'dashed' },
          label: { formatter: `${name} untrained ${v.toFixed(1)}`, position: 'insideEndTop' },
          data: [{ yAxis: v }]
        }
  const pairs = (ys: (number | null)[]) =>
    s.values.map((x, i) => [x, ys[i]]).filter((p) => p[1] !== null)
  return {
    tooltip: { trigger: 'axis' },
    legend: { top: 0 },
    grid: { left: 48, right: 24, top: 36, bottom: 40 },
    xAxis: {
      type: wantsLogAxis(s.values) ? 'log' : 'value',
      name: param,
      nameLocation: 'middle',
      nameGap: 26,
      min: 'dataMin',
      max: 'dataMax'
    },
    yAxis: {
      type: 'value',
      name: '%',
      // Percentages: a little room around the data, never beyond 0…100.
      min: (v: { min: number }) => Math.max(0, Math.floor(v.min / 5) * 5 - 5),
      max: (v: { max: number }) => Math.min(100, Math.ceil(v.max / 5) * 5 + 5)
    },
    series: [
      {
        name: 'test R@1',
        type: 'line',
        data: pairs(s.r1),
        markLine: baseLine(s.baselineR1, 'R@1')
      },
      {
        name: 'test MAP@R',
        type: 'line',
        data: pairs(s.mapAtR),
        markLine: baseLine(s.baselineMapAtR, 'MAP@R')
      }
    ]
  }
}

/** Grid cells [xIndex, yIndex, R@1 %] of a two-parameter sweep (only cells with a result). */
export function gridCells(e: ExperimentDetail): {
  xs: number[]
  ys: number[]
  cells: [number, number, number][]
} {
  const [ax, ay] = e.axes
  const xs = [...ax.values].sort((a, b) => a - b)
  const ys = [...ay.values].sort((a, b) => a - b)
  const cells: [number, number, number][] = []
  for (const p of e.points) {
    const v = pct(p.testMetrics?.recall['1'])
    if (v === null) continue
    cells.push([xs.indexOf(p.values[ax.param]!), ys.indexOf(p.values[ay.param]!), v])
  }
  return { xs, ys, cells }
}

/** Heat-map of test R@1 over a two-parameter grid. */
export function gridOption(e: ExperimentDetail): EChartsCoreOption {
  const { xs, ys, cells } = gridCells(e)
  const vals = cells.map((c) => c[2])
  return {
    tooltip: { position: 'top' },
    grid: { left: 64, right: 24, top: 16, bottom: 72 },
    xAxis: {
      type: 'category',
      name: e.axes[0].param,
      data: xs.map(String),
      splitArea: { show: true }
    },
    yAxis: {
      type: 'category',
      name: e.axes[1].param,
      data: ys.map(String),
      splitArea: { show: true }
    },
    visualMap: {
      min: vals.length ? Math.min(...vals) : 0,
      max: vals.length ? Math.max(...vals) : 100,
      calculable: true,
      orient: 'horizontal',
      left: 'center',
      bottom: 0,
      text: ['R@1 %', '']
    },
    series: [
      {
        name: 'test R@1',
        type: 'heatmap',
        data: cells,
        label: { show: true, formatter: (p: { data: number[] }) => p.data[2].toFixed(1) }
      }
    ]
  }
}

/** Bars of test R@1 and MAP@R per ablation variant (points without a result show no bar). */
export function ablationOption(points: ExperimentPoint[]): EChartsCoreOption {
  return {
    tooltip: { trigger: 'axis' },
    legend: { top: 0 },
    grid: { left: 48, right: 16, top: 36, bottom: 64 },
    xAxis: {
      type: 'category',
      data: points.map((p) => p.label),
      axisLabel: { interval: 0, rotate: 20 }
    },
    yAxis: { type: 'value', name: '%' },
    series: [
      { name: 'test R@1', type: 'bar', data: points.map((p) => pct(p.testMetrics?.recall['1'])) },
      { name: 'test MAP@R', type: 'bar', data: points.map((p) => pct(p.testMetrics?.mapAtR)) }
    ]
  }
}
