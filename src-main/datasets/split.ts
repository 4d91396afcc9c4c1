/**
 * Class-disjoint train/test splits. `computeSplit` is pure: it takes a SplitSpec and the
 * classes (ordinal, group, preset) and returns the side of each class, or throws InvalidError
 * with a message that says what is wrong with the spec.
 */
import type { SplitSpec } from '../../src-preload/contract'
import type { SplitSide } from './types'
import { mulberry32 } from '../ml/util/rng'
import { InvalidError } from '../../src-preload/contract/errors'

/** What computeSplit needs to know about a class. */
export interface SplitClass {
  id: number
  ordinal: number
  group: string | null
  presetSplit: SplitSide | null
}

/** Returns the train/test side (or null: in neither) of every class under `spec`. */
export function computeSplit(
  spec: SplitSpec,
  classes: readonly SplitClass[]
): Map<number, SplitSide | null> {
  const out = new Map<number, SplitSide | null>()
  const sorted = [...classes].sort((a, b) => a.ordinal - b.ordinal)
  switch (spec.kind) {
    case 'preset':
      for (const c of sorted) out.set(c.id, c.presetSplit)
      return out
    case 'class-range': {
      const [a0, a1] = spec.train
      const [b0, b1] = spec.test
      const maxOrd = sorted.length ? sorted[sorted.length - 1].ordinal : 0
      for (const [name, lo, hi] of [
        ['train', a0, a1],
        ['test', b0, b1]
      ] as const) {
        if (lo > hi) throw new InvalidError(`${name} range ${lo}-${hi}: the start is after the end`)
        if (hi > maxOrd)
          throw new InvalidError(`${name} range ${lo}-${hi} goes past the last class (${maxOrd})`)
      }
      if (a0 <= b1 && b0 <= a1) {
        throw new InvalidError(
          `train range ${a0}-${a1} and test range ${b0}-${b1} overlap; splits must be class-disjoint`
        )
      }
      for (const c of sorted) {
        const o = c.ordinal
        out.set(c.id, o >= a0 && o <= a1 ? 'train' : o >= b0 && o <= b1 ? 'test' : null)
      }
      return out
    }
    case 'class-ratio': {
      if (sorted.length < 2) throw new InvalidError('a ratio split needs at least 2 classes')
      const ids = sorted.map((c) => c.id)
      // Seeded, so that a ratio split is the same on every machine.
      const rand = mulberry32(spec.seed ?? 1)
      for (let i = ids.length - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1))
        ;[ids[i], ids[j]] = [ids[j], ids[i]]
      }
      const nTrain = Math.min(ids.length - 1, Math.max(1, Math.round(spec.trainRatio * ids.length)))
      ids.forEach((id, i) => out.set(id, i < nTrain ? 'train' : 'test'))
      return out
    }
    case 'group': {
      const known = new Set(sorted.map((c) => c.group).filter((g): g is string => g !== null))
      if (known.size === 0)
        throw new InvalidError('this dataset has no class groups; use a class range or ratio split')
      const unknown = [...spec.train, ...spec.test].filter((g) => !known.has(g))
      if (unknown.length) {
        throw new InvalidError(
          `unknown group(s): ${unknown.join(', ')}; the groups are: ${[...known].sort().join(', ')}`
        )
      }
      const both = spec.train.filter((g) => spec.test.includes(g))
      if (both.length) throw new InvalidError(`group(s) in both train and test: ${both.join(', ')}`)
      const train = new Set(spec.train)
      const test = new Set(spec.test)
      for (const c of sorted) {
        out.set(
          c.id,
          c.group !== null && train.has(c.group)
            ? 'train'
            : c.group !== null && test.has(c.group)
              ? 'test'
              : null
        )
      }
      return out
    }
  }
}
