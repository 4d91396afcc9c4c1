/** Retrieval metrics per epoch of one run. */
import type { EpochRecord } from '../../../../src-preload/contract'
import { SERIES_COLORS } from '../echarts-colors'
import { epochAxis, line, percentAxis, type ChartOption } from './common'

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
