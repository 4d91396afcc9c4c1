import { describe, expect, it } from 'vitest'
import { gridMove } from './gridNav'

describe('gridMove', () => {
  it('moves by one sideways and by a row up and down, clamped to the grid', () => {
    expect(gridMove('ArrowRight', 0, 10, 4)).toBe(1)
    expect(gridMove('ArrowDown', 1, 10, 4)).toBe(5)
    expect(gridMove('ArrowDown', 8, 10, 4)).toBe(9)
    expect(gridMove('ArrowUp', 2, 10, 4)).toBe(0)
    expect(gridMove('ArrowLeft', 0, 10, 4)).toBe(0)
    expect(gridMove('End', 0, 10, 4)).toBe(9)
  })
  it('ignores other keys and empty grids', () => {
    expect(gridMove('a', 0, 10, 4)).toBeNull()
    expect(gridMove('ArrowRight', 0, 0, 4)).toBeNull()
  })
})
