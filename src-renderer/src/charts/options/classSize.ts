/** Images per class of a dataset. */
import type { ClassSummary } from '../../../../src-preload/contract'
import { NEUTRAL_COLOR, SERIES_COLORS } from '../echarts-colors'
import type { ChartOption } from './common'

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

/** Bar colour of a class: train blue, test orange, in no split (or another split) grey. */
export function splitColor(split: ClassSummary['split']): string {
  return split === 'train' ? SERIES_COLORS[0] : split === 'test' ? SERIES_COLORS[1] : NEUTRAL_COLOR
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
            itemStyle: { color: splitColor(c.split) }
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
