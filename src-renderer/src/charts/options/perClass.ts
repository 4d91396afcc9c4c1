/** Per-class R@1 of several runs. */
import type { ClassRecall } from '../../../../src-preload/contract'
import { SERIES_COLORS } from '../echarts-colors'
import type { ChartOption } from './common'

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
