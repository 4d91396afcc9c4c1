/**
 * The embedding map (2-D projection) of a run: colour categories and their legend, the scatter
 * option (large mode: one series per colour, so 20k points draw as a few paths), fixed axes (so a
 * point's pixel is predictable), the tooltip and the brush selection.
 */
import { MAP_GRID, mapPathAt, type EmbeddingMap } from '../../../../src-preload/contract'
import { NEUTRAL_COLOR, SERIES_COLORS } from '../echarts-colors'
import { palette, type ChartOption } from './common'

/** What the points are coloured by. */
export type MapColouring = 'class' | 'split' | 'outcome'

/** One legend row: a colour category, its points and whether it is shown. */
export interface MapLegendEntry {
  key: number
  label: string
  color: string
  count: number
}

/** Most distinct class colours; beyond this (e.g. 11k product classes) colours repeat. */
export const MAP_CLASS_COLOURS = 256
/** Margin around the points, in map units (the axes run from -pad to max + pad). */
export const MAP_PAD = Math.round(MAP_GRID * 0.03)
/** The plot's inset inside the chart box, in pixels. */
export const MAP_INSET = { left: 8, right: 8, top: 8, bottom: 8 }
/** Above this many points every series draws in ECharts' large mode (one path per series). */
export const MAP_LARGE_AT = 2000

const OUTCOME: Record<number, { label: string; color: string }> = {
  1: { label: 'R@1 hit', color: SERIES_COLORS[2] },
  0: { label: 'R@1 miss', color: SERIES_COLORS[7] },
  [-1]: { label: 'no query (train, or no classmate)', color: NEUTRAL_COLOR }
}
const SPLIT: Record<number, { label: string; color: string }> = {
  0: { label: 'train', color: SERIES_COLORS[0] },
  1: { label: 'test', color: SERIES_COLORS[1] }
}

/** The category of point i under a colouring: its class id, split (0/1) or outcome (1/0/-1). */
export function categoryOf(map: EmbeddingMap, i: number, by: MapColouring): number {
  return by === 'class' ? map.classIds[i] : by === 'split' ? map.split[i] : map.hit[i]
}

/** The legend of a colouring: every category present, with its colour and point count. */
export function mapLegend(
  map: EmbeddingMap,
  by: MapColouring,
  className: (id: number) => string
): MapLegendEntry[] {
  const counts = new Map<number, number>()
  const n = map.imageIds.length
  for (let i = 0; i < n; i++) {
    const k = categoryOf(map, i, by)
    counts.set(k, (counts.get(k) ?? 0) + 1)
  }
  if (by === 'class') {
    const ids = [...counts.keys()].sort((a, b) => a - b)
    return ids.map((id, i) => ({
      key: id,
      label: className(id),
      color: palette(i % MAP_CLASS_COLOURS),
      count: counts.get(id) as number
    }))
  }
  const table = by === 'split' ? SPLIT : OUTCOME
  const order = by === 'split' ? [1, 0] : [1, 0, -1]
  return order
    .filter((k) => counts.has(k))
    .map((k) => ({ key: k, ...table[k], count: counts.get(k) as number }))
}

/** Axis ranges of a map: fixed, so that the same point always lands on the same pixel. */
export function mapAxes(map: EmbeddingMap): { x: [number, number]; y: [number, number] } {
  let mx = 0
  let my = 0
  for (const v of map.x) if (v > mx) mx = v
  for (const v of map.y) if (v > my) my = v
  return { x: [-MAP_PAD, mx + MAP_PAD], y: [-MAP_PAD, my + MAP_PAD] }
}

/** The pixel of point i in a chart box of width × height (no zoom), for tests and overlays. */
export function mapPixel(
  map: EmbeddingMap,
  i: number,
  width: number,
  height: number
): [number, number] {
  const { x, y } = mapAxes(map)
  const w = width - MAP_INSET.left - MAP_INSET.right
  const h = height - MAP_INSET.top - MAP_INSET.bottom
  return [
    MAP_INSET.left + ((map.x[i] - x[0]) / (x[1] - x[0])) * w,
    MAP_INSET.top + (1 - (map.y[i] - y[0]) / (y[1] - y[0])) * h
  ]
}

/** The scatter option: visible points grouped into one series per colour; value[2] is the point. */
export function mapOption(
  map: EmbeddingMap,
  legend: readonly MapLegendEntry[],
  by: MapColouring,
  hidden: ReadonlySet<number>,
  tooltip: (i: number) => string
): ChartOption {
  const colorOf = new Map(legend.map((e) => [e.key, e.color]))
  // Series in legend order, so the drawing order does not depend on the points' order.
  const groups = new Map<string, number[][]>(legend.map((e) => [e.color, []]))
  const n = map.imageIds.length
  for (let i = 0; i < n; i++) {
    const k = categoryOf(map, i, by)
    if (hidden.has(k)) continue
    const color = colorOf.get(k) ?? NEUTRAL_COLOR
    const g = groups.get(color)
    const point = [map.x[i], map.y[i], i]
    if (g) g.push(point)
    else groups.set(color, [point])
  }
  const symbolSize = n > 5000 ? 3 : n > 1000 ? 5 : 8
  const large = n > MAP_LARGE_AT
  const axes = mapAxes(map)
  // The projection's axes have no meaning, so they are not drawn.
  const axis = (range: [number, number]) => ({
    type: 'value',
    show: false,
    min: range[0],
    max: range[1]
  })
  return {
    animation: false,
    grid: { ...MAP_INSET, containLabel: false },
    xAxis: axis(axes.x),
    yAxis: axis(axes.y),
    tooltip: {
      trigger: 'item',
      className: 'map-tooltip',
      confine: true,
      transitionDuration: 0,
      formatter: (p: { value?: number[] }) => (p.value ? tooltip(p.value[2]) : '')
    },
    dataZoom: [
      { type: 'inside', xAxisIndex: 0, filterMode: 'none' },
      { type: 'inside', yAxisIndex: 0, filterMode: 'none' }
    ],
    brush: {
      xAxisIndex: 0,
      yAxisIndex: 0,
      brushMode: 'single',
      transformable: false,
      throttleType: 'debounce',
      throttleDelay: 100
    },
    series: [...groups]
      .filter(([, data]) => data.length > 0)
      .map(([color, data]) => ({
        name: color,
        type: 'scatter',
        symbolSize,
        large,
        largeThreshold: 0,
        itemStyle: { color, opacity: large ? 0.75 : 0.9 },
        emphasis: { scale: 1.6 },
        data
      }))
  }
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;'
}
const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => ESCAPES[c])

/** The hover card of point i: its thumbnail, file name, class, split and R@1 outcome. */
export function mapTooltipHtml(
  map: EmbeddingMap,
  i: number,
  className: (id: number) => string,
  thumbUrl: (imageId: number) => string
): string {
  const path = mapPathAt(map, i)
  const name = map.base[i] || `image ${map.imageIds[i]}`
  const facts = [className(map.classIds[i]), SPLIT[map.split[i]]?.label ?? '']
  if (map.hit[i] !== -1) facts.push(OUTCOME[map.hit[i]].label)
  return (
    `<div class="map-tip" data-image-id="${map.imageIds[i]}">` +
    `<img src="${escapeHtml(thumbUrl(map.imageIds[i]))}" alt="" width="96" height="96" ` +
    `style="display:block;width:96px;height:96px;object-fit:cover;border-radius:4px">` +
    `<div class="map-tip-name" title="${escapeHtml(path)}" style="font-weight:600;margin-top:4px;max-width:220px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap">${escapeHtml(name)}</div>` +
    `<div style="opacity:.75">${escapeHtml(facts.filter(Boolean).join(' · '))}</div></div>`
  )
}

/** A brush area as ECharts reports it with its data-coordinate range. */
export interface MapBrushArea {
  brushType: string
  /** rect: [[x0, x1], [y0, y1]]; polygon: [[x, y], …]. */
  coordRange: number[][]
}

/** Whether (x, y) is inside a polygon (even-odd ray casting). */
function inPolygon(poly: number[][], x: number, y: number): boolean {
  let inside = false
  for (let a = 0, b = poly.length - 1; a < poly.length; b = a++) {
    const [xa, ya] = poly[a]
    const [xb, yb] = poly[b]
    if (ya > y !== yb > y && x < ((xb - xa) * (y - ya)) / (yb - ya) + xa) inside = !inside
  }
  return inside
}

/** Indices of the visible points inside any of the brush areas, in map order. */
export function pointsInAreas(
  map: EmbeddingMap,
  areas: readonly MapBrushArea[],
  by: MapColouring,
  hidden: ReadonlySet<number>
): number[] {
  const out: number[] = []
  const n = map.imageIds.length
  for (let i = 0; i < n; i++) {
    if (hidden.has(categoryOf(map, i, by))) continue
    const x = map.x[i]
    const y = map.y[i]
    const hit = areas.some((a) => {
      if (a.brushType === 'rect') {
        const [[x0, x1], [y0, y1]] = a.coordRange
        return (
          x >= Math.min(x0, x1) &&
          x <= Math.max(x0, x1) &&
          y >= Math.min(y0, y1) &&
          y <= Math.max(y0, y1)
        )
      }
      return a.brushType === 'polygon' && a.coordRange.length >= 3 && inPolygon(a.coordRange, x, y)
    })
    if (hit) out.push(i)
  }
  return out
}
