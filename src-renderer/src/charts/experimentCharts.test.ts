import { describe, expect, it } from 'vitest'
import {
  TrainConfig,
  type ExperimentDetail,
  type ExperimentPoint,
  type Metrics
} from '../../../src-preload/contract'
import {
  ablationOption,
  gridCells,
  sensitivityOption,
  sensitivitySeries,
  wantsLogAxis
} from './experimentCharts'

const m = (r1: number, map: number): Metrics => ({
  recall: { '1': r1 },
  rPrecision: 0,
  mapAtR: map
})
function point(
  ordinal: number,
  values: ExperimentPoint['values'],
  test: Metrics | null
): ExperimentPoint {
  return {
    ordinal,
    label: JSON.stringify(values),
    values,
    variant: null,
    runId: ordinal + 1,
    status: test ? 'completed' : 'queued',
    epochsDone: 0,
    epochs: 1,
    baselineMetrics: test ? m(0.5, 0.2) : null,
    testMetrics: test
  }
}
function exp(axes: ExperimentDetail['axes'], points: ExperimentPoint[]): ExperimentDetail {
  return {
    id: 1,
    kind: 'sweep',
    name: 's',
    datasetId: 1,
    datasetName: 'd',
    axes,
    status: 'running',
    done: 0,
    total: points.length,
    createdAt: '',
    base: TrainConfig.parse({ datasetId: 1 }),
    points
  }
}

describe('experiment charts', () => {
  it('sensitivity: values sorted, R@1 and MAP@R in %, unfinished points left out, baseline as a line', () => {
    const e = exp(
      [{ param: 'tau', values: [16, 4, 64] }],
      [
        point(0, { tau: 16 }, m(0.61, 0.3)),
        point(1, { tau: 4 }, m(0.55, 0.25)),
        point(2, { tau: 64 }, null)
      ]
    )
    const s = sensitivitySeries(e)
    expect(s.values).toEqual([4, 16, 64])
    expect(s.r1).toEqual([55, 61, null])
    expect(s.baselineR1).toBe(50)
    const opt = sensitivityOption(e) as {
      series: { data: number[][]; markLine: { data: unknown[] } }[]
      xAxis: { type: string }
    }
    expect(opt.series[0].data).toEqual([
      [4, 55],
      [16, 61]
    ])
    expect(opt.series[1].data).toEqual([
      [4, 25],
      [16, 30]
    ])
    expect(opt.series[0].markLine.data).toEqual([{ yAxis: 50 }])
    expect(opt.xAxis.type).toBe('log')
    expect(wantsLogAxis([0.5, 1, 1.5])).toBe(false)
  })

  it('grid: one cell per finished point at the index of its two values', () => {
    const e = exp(
      [
        { param: 'tau', values: [8, 4] },
        { param: 'alpha', values: [2, 1] }
      ],
      [
        point(0, { tau: 8, alpha: 1 }, m(0.6, 0.3)),
        point(1, { tau: 4, alpha: 2 }, m(0.4, 0.3)),
        point(2, { tau: 4, alpha: 1 }, null)
      ]
    )
    expect(gridCells(e)).toEqual({
      xs: [4, 8],
      ys: [1, 2],
      cells: [
        [1, 0, 60],
        [0, 1, 40]
      ]
    })
  })

  it('ablation bars: one category per variant, no bar where a run has no result', () => {
    const opt = ablationOption([point(0, {}, m(0.7, 0.4)), point(1, {}, null)]) as {
      series: { data: (number | null)[] }[]
    }
    expect(opt.series[0].data).toEqual([70, null])
    expect(opt.series[1].data).toEqual([40, null])
  })
})
