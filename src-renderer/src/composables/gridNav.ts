/**
 * Arrow-key movement in a grid of `count` items laid out in rows of `cols`: returns the new index
 * (clamped), or null for keys that do not move.
 */
export function gridMove(key: string, index: number, count: number, cols: number): number | null {
  if (count <= 0) return null
  const c = Math.max(1, cols)
  let next: number
  switch (key) {
    case 'ArrowRight':
      next = index + 1
      break
    case 'ArrowLeft':
      next = index - 1
      break
    case 'ArrowDown':
      next = index + c
      break
    case 'ArrowUp':
      next = index - c
      break
    case 'Home':
      next = 0
      break
    case 'End':
      next = count - 1
      break
    default:
      return null
  }
  return Math.min(count - 1, Math.max(0, next))
}

/** Number of columns of a CSS grid element (from its computed template). */
export function gridColumns(el: Element | null): number {
  if (!el) return 1
  const t = getComputedStyle(el).gridTemplateColumns
  return t && t !== 'none' ? t.split(' ').length : 1
}
