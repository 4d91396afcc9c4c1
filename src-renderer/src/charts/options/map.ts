/** The embedding map (2-D projection) of a run. */
import type { MapPoint } from '../../../../src-preload/contract'
import { palette, type ChartOption } from './common'

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
