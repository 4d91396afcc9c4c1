import { describe, expect, it } from 'vitest'
import { layoutRows, pagesFor, rowAt, visibleRows } from './gridLayout'

describe('grouped grid layout', () => {
  const groups = [
    { key: 1, title: 'a', count: 5 },
    { key: 2, title: 'b', count: 0 },
    { key: 3, title: 'c', count: 2 }
  ]

  it('puts a header before each group and wraps cells into rows', () => {
    const { rows, height } = layoutRows(groups, 2, 30, 100)
    expect(
      rows.map((r) => (r.kind === 'header' ? `h${r.group}` : `${r.group}:${r.start}-${r.end}`))
    ).toEqual(['h0', '0:0-2', '0:2-4', '0:4-5', 'h1', 'h2', '2:0-2'])
    expect(height).toBe(3 * 30 + 4 * 100)
  })

  it('finds the visible rows by scroll position', () => {
    const { rows } = layoutRows(groups, 2, 30, 100)
    expect(rowAt(rows, 0)).toBe(0)
    expect(rowAt(rows, 30)).toBe(1)
    expect(rowAt(rows, 129)).toBe(1)
    expect(rowAt(rows, 130)).toBe(2)
    expect(visibleRows(rows, 130, 100, 0)).toEqual([2, 4])
    expect(visibleRows(rows, 0, 10_000)).toEqual([0, rows.length])
    expect(visibleRows([], 0, 100)).toEqual([0, 0])
  })

  it('lists the pages a cell range needs', () => {
    expect(pagesFor(0, 10, 100)).toEqual([0])
    expect(pagesFor(95, 105, 100)).toEqual([0, 1])
    expect(pagesFor(200, 200, 100)).toEqual([])
  })
})
