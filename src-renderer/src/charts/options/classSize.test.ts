import { describe, expect, it } from 'vitest'
import type { ClassSummary } from '../../../../src-preload/contract'
import { NEUTRAL_COLOR, SERIES_COLORS } from '../echarts-colors'
import { classSizeOption } from './classSize'

const cls = (id: number, split: ClassSummary['split']): ClassSummary => ({
  id,
  name: `c${id}`,
  group: null,
  split,
  imageCount: 3
})

describe('images-per-class chart', () => {
  it('colours train blue, test orange and a class in no split neutral (not as train)', () => {
    const opt = classSizeOption([cls(1, 'train'), cls(2, 'test'), cls(3, null)]) as {
      series: { data: { itemStyle: { color: string } }[] }[]
    }
    const colors = opt.series[0].data.map((d) => d.itemStyle.color)
    expect(colors).toEqual([SERIES_COLORS[0], SERIES_COLORS[1], NEUTRAL_COLOR])
  })
})
