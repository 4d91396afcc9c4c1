/**
 * The embedding map's wire form: columns instead of one object per point, coordinates scaled to
 * small integers, and file paths split into a shared folder table and base names. At 20k points
 * this is several times smaller than an array of objects with float coordinates.
 */
import { MAP_GRID, type EmbeddingMap, type MapScope } from '../../src-preload/contract/retrieval'
import type { ProjectionMethod } from './projection'

/** Everything a map payload is built from, row by row. */
export interface MapColumns {
  runId: number
  method: ProjectionMethod
  scope: MapScope
  imageIds: ArrayLike<number>
  classIds: ArrayLike<number>
  /** 0 train, 1 test per row. */
  split: ArrayLike<number>
  /** Interleaved (x, y) per row. */
  coords: Float64Array
  fitted: number | null
  /** The row's R@1 outcome as a query, or null when it was not a query. */
  hitOf: (imageId: number) => boolean | null
  /** The image's path inside its dataset ('' when unknown, e.g. deleted since). */
  pathOf: (imageId: number) => string
}

/**
 * Scales coordinates into [0, MAP_GRID] integers with one factor for both axes (so the map keeps
 * its shape); non-finite coordinates go to the middle.
 */
export function quantise(coords: Float64Array, n: number): { x: number[]; y: number[] } {
  let minX = Infinity
  let maxX = -Infinity
  let minY = Infinity
  let maxY = -Infinity
  for (let i = 0; i < n; i++) {
    const a = coords[2 * i]
    const b = coords[2 * i + 1]
    if (Number.isFinite(a)) {
      if (a < minX) minX = a
      if (a > maxX) maxX = a
    }
    if (Number.isFinite(b)) {
      if (b < minY) minY = b
      if (b > maxY) maxY = b
    }
  }
  if (!Number.isFinite(minX)) minX = maxX = 0
  if (!Number.isFinite(minY)) minY = maxY = 0
  const span = Math.max(maxX - minX, maxY - minY)
  const scale = span > 0 ? MAP_GRID / span : 0
  const x = new Array<number>(n)
  const y = new Array<number>(n)
  for (let i = 0; i < n; i++) {
    const a = coords[2 * i]
    const b = coords[2 * i + 1]
    x[i] = Number.isFinite(a) ? Math.round((a - minX) * scale) : Math.round(MAP_GRID / 2)
    y[i] = Number.isFinite(b) ? Math.round((b - minY) * scale) : Math.round(MAP_GRID / 2)
  }
  return { x, y }
}

/** Splits each path at its last '/' into a shared folder table and a base name per row. */
export function compactPaths(paths: string[]): { dirs: string[]; dir: number[]; base: string[] } {
  const dirs: string[] = []
  const index = new Map<string, number>()
  const dir = new Array<number>(paths.length)
  const base = new Array<string>(paths.length)
  paths.forEach((p, i) => {
    const cut = p.lastIndexOf('/')
    const folder = cut >= 0 ? p.slice(0, cut) : ''
    let k = index.get(folder)
    if (k === undefined) {
      k = dirs.length
      dirs.push(folder)
      index.set(folder, k)
    }
    dir[i] = k
    base[i] = cut >= 0 ? p.slice(cut + 1) : p
  })
  return { dirs, dir, base }
}

/** Builds the wire payload of a map. */
export function buildMapPayload(c: MapColumns): EmbeddingMap {
  const n = c.imageIds.length
  if (c.coords.length !== 2 * n)
    throw new Error(`map payload: ${c.coords.length / 2} coordinates for ${n} images`)
  const { x, y } = quantise(c.coords, n)
  const imageIds = Array.from(c.imageIds)
  const hit = imageIds.map((id) => {
    const h = c.hitOf(id)
    return h === null ? -1 : h ? 1 : 0
  })
  return {
    runId: c.runId,
    method: c.method,
    scope: c.scope,
    imageIds,
    classIds: Array.from(c.classIds),
    x,
    y,
    split: Array.from(c.split),
    hit,
    ...compactPaths(imageIds.map((id) => c.pathOf(id))),
    fitted: c.fitted
  }
}
