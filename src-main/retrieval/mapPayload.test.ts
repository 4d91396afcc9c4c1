import { describe, expect, it } from 'vitest'
import { MAP_GRID, mapPathAt } from '../../src-preload/contract/retrieval'
import { buildMapPayload, compactPaths, quantise } from './mapPayload'

describe('quantise', () => {
  it('scales both axes by one factor into 0..MAP_GRID integers, keeping the shape', () => {
    const { x, y } = quantise(Float64Array.from([-1, 0, 1, 0.5, 3, 1]), 3)
    expect(x).toEqual([0, MAP_GRID / 2, MAP_GRID])
    // y spans 1 where x spans 4: the same scale, so y covers a quarter of the grid.
    expect(y).toEqual([0, MAP_GRID / 8, MAP_GRID / 4])
  })

  it('puts non-finite coordinates in the middle and survives a single point', () => {
    expect(quantise(Float64Array.from([NaN, 2, 1, Infinity]), 2)).toEqual({
      x: [MAP_GRID / 2, 0],
      y: [0, MAP_GRID / 2]
    })
  })
})

describe('compactPaths', () => {
  it('shares folders in a table and rebuilds every path', () => {
    const paths = ['a/x.png', 'a/y.png', 'b/c/z.jpg', 'top.png', '']
    const c = compactPaths(paths)
    expect(c.dirs).toEqual(['a', 'b/c', ''])
    paths.forEach((p, i) => expect(mapPathAt(c, i)).toBe(p))
  })
})

describe('buildMapPayload', () => {
  it('20k points: columns of the right length, hits and paths per image, smaller than objects', () => {
    const n = 20_000
    const imageIds = Int32Array.from({ length: n }, (_, i) => 1000 + i)
    const classIds = Int32Array.from({ length: n }, (_, i) => i % 200)
    const split = Uint8Array.from({ length: n }, (_, i) => (i < n / 2 ? 0 : 1))
    const coords = Float64Array.from({ length: 2 * n }, (_, i) => Math.sin(i) * 7.123456789)
    const pathOf = (id: number): string =>
      `${String((id - 1000) % 200).padStart(3, '0')}.Some_Class_Name/Some_Class_Name_${id}_123456.jpg`
    const map = buildMapPayload({
      runId: 4,
      method: 'pca',
      scope: 'dataset',
      imageIds,
      classIds,
      split,
      coords,
      fitted: null,
      hitOf: (id) => (id - 1000 < n / 2 ? null : id % 3 !== 0),
      pathOf
    })
    for (const col of [
      map.imageIds,
      map.classIds,
      map.x,
      map.y,
      map.split,
      map.hit,
      map.dir,
      map.base
    ])
      expect(col.length).toBe(n)
    expect(map.dirs.length).toBe(200)
    expect(map.x.every((v) => Number.isInteger(v) && v >= 0 && v <= MAP_GRID)).toBe(true)
    expect(map.hit[0]).toBe(-1)
    expect(map.hit[n - 1]).toBe((1000 + n - 1) % 3 !== 0 ? 1 : 0)
    expect(mapPathAt(map, 12_345)).toBe(pathOf(1000 + 12_345))
    // The wire form is well under the naive array of objects with float coordinates and paths.
    const objects = Array.from(imageIds, (id, i) => ({
      imageId: id,
      classId: classIds[i],
      x: coords[2 * i],
      y: coords[2 * i + 1],
      split: split[i],
      hit: map.hit[i],
      relPath: pathOf(id)
    }))
    const wire = JSON.stringify(map).length
    expect(wire).toBeLessThan(0.6 * JSON.stringify(objects).length)
  })

  it('refuses coordinates that do not match the ids', () => {
    expect(() =>
      buildMapPayload({
        runId: 1,
        method: 'pca',
        scope: 'test',
        imageIds: [1, 2],
        classIds: [1, 1],
        split: [1, 1],
        coords: new Float64Array(2),
        fitted: null,
        hitOf: () => null,
        pathOf: () => ''
      })
    ).toThrow(/1 coordinates for 2 images/)
  })
})
