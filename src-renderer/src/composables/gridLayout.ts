/**
 * Layout of a virtualised, grouped thumbnail grid: a header row per group followed by rows of
 * `cols` cells. Pure, so the scrolling maths is unit-tested without a DOM.
 */

/** One group (a class) of the grid. */
export interface GridGroup {
  key: number
  title: string
  count: number
}

/** A laid-out row: a group header, or cells [start, end) of a group. */
export type GridRow =
  | { kind: 'header'; group: number; top: number; height: number }
  | { kind: 'cells'; group: number; start: number; end: number; top: number; height: number }

/** Lays out the rows; returns them with the total height. */
export function layoutRows(
  groups: readonly GridGroup[],
  cols: number,
  headerHeight: number,
  rowHeight: number
): { rows: GridRow[]; height: number } {
  const c = Math.max(1, Math.floor(cols))
  const rows: GridRow[] = []
  let top = 0
  groups.forEach((g, gi) => {
    rows.push({ kind: 'header', group: gi, top, height: headerHeight })
    top += headerHeight
    for (let s = 0; s < g.count; s += c) {
      rows.push({
        kind: 'cells',
        group: gi,
        start: s,
        end: Math.min(g.count, s + c),
        top,
        height: rowHeight
      })
      top += rowHeight
    }
  })
  return { rows, height: top }
}

/** Index of the first row whose bottom is below `y` (binary search). */
export function rowAt(rows: readonly GridRow[], y: number): number {
  let lo = 0
  let hi = rows.length - 1
  if (hi < 0) return 0
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (rows[mid].top + rows[mid].height <= y) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** Rows [from, to) to render for a viewport, with `overscan` pixels above and below. */
export function visibleRows(
  rows: readonly GridRow[],
  scrollTop: number,
  viewHeight: number,
  overscan = 300
): [number, number] {
  if (!rows.length) return [0, 0]
  const from = rowAt(rows, Math.max(0, scrollTop - overscan))
  let to = rowAt(rows, scrollTop + viewHeight + overscan) + 1
  to = Math.min(rows.length, to)
  return [from, to]
}

/** Page indices (of size `pageSize`) needed to show cells [start, end). */
export function pagesFor(start: number, end: number, pageSize: number): number[] {
  const out: number[] = []
  for (let p = Math.floor(start / pageSize); p * pageSize < end; p++) out.push(p)
  return out
}
