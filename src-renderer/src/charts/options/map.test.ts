import { describe, expect, it } from 'vitest'
import type { EmbeddingMap } from '../../../../src-preload/contract'
import { NEUTRAL_COLOR } from '../echarts-colors'
import {
  MAP_INSET,
  MAP_PAD,
  mapAxes,
  mapLegend,
  mapOption,
  mapPixel,
  mapTooltipHtml,
  pointsInAreas
} from './map'

/** Six points: classes 1, 2, 3 (two each); train/test; hit, miss and no query. */
const map: EmbeddingMap = {
  runId: 1,
  method: 'pca',
  scope: 'dataset',
  imageIds: [10, 11, 12, 13, 14, 15],
  classIds: [1, 1, 2, 2, 3, 3],
  x: [0, 100, 200, 300, 400, 500],
  y: [0, 50, 100, 150, 200, 250],
  split: [0, 0, 1, 1, 1, 1],
  hit: [-1, -1, 1, 0, 1, 1],
  dirs: ['a', 'b<x>'],
  dir: [0, 0, 1, 1, 0, 0],
  base: ['p0.png', 'p1.png', 'p2.png', 'p3.png', 'p4.png', 'p"5.png'],
  fitted: null
}
const name = (id: number): string => `class ${id}`
type S = { data: number[][]; itemStyle: { color: string }; large: boolean }

describe('mapLegend', () => {
  it('lists each category with its colour and count, per colouring', () => {
    expect(mapLegend(map, 'class', name).map((e) => [e.label, e.count])).toEqual([
      ['class 1', 2],
      ['class 2', 2],
      ['class 3', 2]
    ])
    expect(mapLegend(map, 'split', name).map((e) => [e.label, e.count])).toEqual([
      ['test', 4],
      ['train', 2]
    ])
    const outcome = mapLegend(map, 'outcome', name)
    expect(outcome.map((e) => [e.label, e.count])).toEqual([
      ['R@1 hit', 3],
      ['R@1 miss', 1],
      ['no query (train, or no classmate)', 2]
    ])
    expect(outcome[2].color).toBe(NEUTRAL_COLOR)
  })
})

describe('mapOption', () => {
  it('draws one series per colour with every visible point once, hidden categories left out', () => {
    const legend = mapLegend(map, 'outcome', name)
    const opt = mapOption(map, legend, 'outcome', new Set([0]), () => '') as { series: S[] }
    expect(opt.series.map((s) => s.itemStyle.color)).toEqual(
      legend.filter((e) => e.key !== 0).map((e) => e.color)
    )
    const shown = opt.series.flatMap((s) => s.data.map((p) => p[2])).sort()
    expect(shown).toEqual([0, 1, 2, 4, 5])
    expect(opt.series[0].data[0]).toEqual([200, 100, 2])
  })

  it('uses large mode for big maps, whatever the per-series count', () => {
    const n = 3000
    const big: EmbeddingMap = {
      ...map,
      imageIds: Array.from({ length: n }, (_, i) => i),
      classIds: Array.from({ length: n }, (_, i) => i % 300),
      x: Array.from({ length: n }, (_, i) => i),
      y: Array.from({ length: n }, (_, i) => i),
      split: new Array(n).fill(1),
      hit: new Array(n).fill(1),
      dir: new Array(n).fill(0),
      base: new Array(n).fill('x.png')
    }
    const legend = mapLegend(big, 'class', name)
    expect(legend).toHaveLength(300)
    const opt = mapOption(big, legend, 'class', new Set(), () => '') as { series: S[] }
    // 300 classes but at most MAP_CLASS_COLOURS (256) colours: one series per colour.
    expect(opt.series.length).toBeLessThanOrEqual(256)
    expect(new Set(opt.series.map((s) => s.itemStyle.color)).size).toBe(opt.series.length)
    expect(opt.series.reduce((a, s) => a + s.data.length, 0)).toBe(n)
    expect(opt.series.every((s) => s.large)).toBe(true)
  })
})

describe('mapPixel and mapAxes', () => {
  it('keeps the layout constants e2e/embeddingMap.spec.ts mirrors to find a point', () => {
    expect(MAP_PAD).toBe(300)
    expect(MAP_INSET).toEqual({ left: 8, right: 8, top: 8, bottom: 8 })
  })

  it('puts the first and last points inside the plot at predictable pixels', () => {
    const { x, y } = mapAxes(map)
    expect(x[0]).toBeLessThan(0)
    expect(y[1]).toBeGreaterThan(250)
    const [px0, py0] = mapPixel(map, 0, 416, 316)
    const [px5, py5] = mapPixel(map, 5, 416, 316)
    expect(px0).toBeGreaterThan(MAP_INSET.left)
    expect(px5).toBeLessThan(416 - MAP_INSET.right)
    // y grows upwards on the map, downwards on screen.
    expect(py0).toBeGreaterThan(py5)
  })
})

describe('mapTooltipHtml', () => {
  it('shows the thumbnail and the file name (escaped), not the image id', () => {
    const html = mapTooltipHtml(map, 5, name, (id) => `/media/thumb/${id}`)
    expect(html).toContain('src="/media/thumb/15"')
    expect(html).toContain('p&quot;5.png')
    expect(html).toContain('class 3 · test · R@1 hit')
    expect(mapTooltipHtml(map, 2, name, () => '')).toContain('title="b&lt;x&gt;/p2.png"')
  })
})

describe('pointsInAreas', () => {
  it('selects visible points inside a box or a lasso polygon', () => {
    const rect = {
      brushType: 'rect',
      coordRange: [
        [150, 350],
        [0, 1000]
      ]
    }
    expect(pointsInAreas(map, [rect], 'class', new Set())).toEqual([2, 3])
    expect(pointsInAreas(map, [rect], 'class', new Set([2]))).toEqual([])
    const triangle = {
      brushType: 'polygon',
      coordRange: [
        [-10, -10],
        [520, -10],
        [520, 300]
      ]
    }
    // Below the line from (-10, -10) to (520, 300): every point on y = x/2 except (0, 0)'s edge.
    expect(pointsInAreas(map, [triangle], 'split', new Set([0]))).toEqual([2, 3, 4, 5])
  })
})
