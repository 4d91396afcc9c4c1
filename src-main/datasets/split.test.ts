import { describe, expect, it } from 'vitest'
import { InvalidError } from '../../src-preload/contract/errors'
import { computeSplit, type SplitClass } from './split'

const classes: SplitClass[] = Array.from({ length: 10 }, (_, i) => ({
  id: 100 + i,
  ordinal: i + 1,
  group: i < 4 ? 'A' : i < 7 ? 'B' : 'C',
  presetSplit: i < 5 ? 'train' : 'test'
}))

const sides = (m: Map<number, string | null>): (string | null)[] =>
  classes.map((c) => m.get(c.id) ?? null)

describe('computeSplit', () => {
  it('preset copies the format protocol', () => {
    expect(sides(computeSplit({ kind: 'preset' }, classes))).toEqual(
      classes.map((c) => c.presetSplit)
    )
  })

  it('class ranges are 1-based and inclusive; classes outside both are unsplit', () => {
    const s = sides(computeSplit({ kind: 'class-range', train: [1, 3], test: [6, 10] }, classes))
    expect(s).toEqual([
      'train',
      'train',
      'train',
      null,
      null,
      'test',
      'test',
      'test',
      'test',
      'test'
    ])
  })

  it('rejects overlapping, reversed or out-of-bounds ranges', () => {
    expect(() =>
      computeSplit({ kind: 'class-range', train: [1, 5], test: [5, 10] }, classes)
    ).toThrow(/overlap/)
    expect(() =>
      computeSplit({ kind: 'class-range', train: [4, 2], test: [5, 10] }, classes)
    ).toThrow(/start is after/)
    expect(() =>
      computeSplit({ kind: 'class-range', train: [1, 5], test: [6, 11] }, classes)
    ).toThrow(InvalidError)
  })

  it('a class ratio is seeded: same seed same split, other seed other split, every class assigned', () => {
    const a = sides(computeSplit({ kind: 'class-ratio', trainRatio: 0.6, seed: 7 }, classes))
    const b = sides(computeSplit({ kind: 'class-ratio', trainRatio: 0.6, seed: 7 }, classes))
    expect(a).toEqual(b)
    expect(a.filter((s) => s === 'train')).toHaveLength(6)
    expect(a.filter((s) => s === 'test')).toHaveLength(4)
    const seeds = new Set(
      [1, 2, 3, 4, 5].map((seed) =>
        sides(computeSplit({ kind: 'class-ratio', trainRatio: 0.6, seed }, classes)).join()
      )
    )
    expect(seeds.size).toBeGreaterThan(1)
    // never an empty side
    const tiny = sides(computeSplit({ kind: 'class-ratio', trainRatio: 0.01, seed: 1 }, classes))
    expect(tiny.filter((s) => s === 'train')).toHaveLength(1)
  })

  it('groups go whole to train or test; unknown or doubled groups are named in the error', () => {
    const s = sides(computeSplit({ kind: 'group', train: ['A'], test: ['C'] }, classes))
    expect(s).toEqual([
      'train',
      'train',
      'train',
      'train',
      null,
      null,
      null,
      'test',
      'test',
      'test'
    ])
    expect(() =>
      computeSplit({ kind: 'group', train: ['A', 'Klingon'], test: ['C'] }, classes)
    ).toThrow(/unknown group\(s\): Klingon; the groups are: A, B, C/)
    expect(() => computeSplit({ kind: 'group', train: ['A'], test: ['A'] }, classes)).toThrow(
      /both train and test: A/
    )
    const noGroups = classes.map((c) => ({ ...c, group: null }))
    expect(() => computeSplit({ kind: 'group', train: ['A'], test: ['B'] }, noGroups)).toThrow(
      /no class groups/
    )
  })
})
