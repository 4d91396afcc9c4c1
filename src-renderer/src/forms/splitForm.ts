/** The split editor's form state and its conversion to the contract's SplitSpec. */
import { SplitSpec } from '../../../src-preload/contract/datasets'
import { mapIssues, type FieldErrors } from './issues'

/** Everything the split editor can hold at once, so switching kinds keeps each kind's entries. */
export interface SplitForm {
  kind: SplitSpec['kind']
  trainFrom: number | ''
  trainTo: number | ''
  testFrom: number | ''
  testTo: number | ''
  trainRatio: number | ''
  seed: number | ''
  trainGroups: string[]
  testGroups: string[]
}

/** A fresh split form; class ranges default to a half/half split of `classCount`. */
export function defaultSplitForm(classCount = 0): SplitForm {
  const half = Math.max(1, Math.floor(classCount / 2))
  return {
    kind: 'preset',
    trainFrom: 1,
    trainTo: half,
    testFrom: Math.min(half + 1, Math.max(classCount, 1)),
    testTo: Math.max(classCount, 1),
    trainRatio: 0.5,
    seed: 1,
    trainGroups: [],
    testGroups: []
  }
}

/** The SplitSpec input for the form's current kind (not yet validated). */
export function splitInput(f: SplitForm): unknown {
  switch (f.kind) {
    case 'preset':
      return { kind: 'preset' }
    case 'class-range':
      return { kind: 'class-range', train: [f.trainFrom, f.trainTo], test: [f.testFrom, f.testTo] }
    case 'class-ratio':
      return { kind: 'class-ratio', trainRatio: f.trainRatio, seed: f.seed }
    case 'group':
      return { kind: 'group', train: f.trainGroups, test: f.testGroups }
  }
}

/** Rebuilds a form from a stored spec (e.g. the last wizard config). */
export function splitFormFrom(spec: SplitSpec | undefined, classCount = 0): SplitForm {
  const f = defaultSplitForm(classCount)
  if (!spec) return f
  f.kind = spec.kind
  if (spec.kind === 'class-range') {
    ;[f.trainFrom, f.trainTo] = spec.train
    ;[f.testFrom, f.testTo] = spec.test
  } else if (spec.kind === 'class-ratio') {
    f.trainRatio = spec.trainRatio
    f.seed = spec.seed
  } else if (spec.kind === 'group') {
    f.trainGroups = [...spec.train]
    f.testGroups = [...spec.test]
  }
  return f
}

/**
 * Validates the form: schema limits first, then what the schema cannot know (ranges inside the
 * dataset's class count, train and test not overlapping). Keys are like `train.1`, `trainRatio`.
 */
export function validateSplit(
  f: SplitForm,
  classCount: number | null
): { spec: SplitSpec | null; errors: FieldErrors } {
  const input = splitInput(f)
  const r = SplitSpec.safeParse(input)
  if (!r.success) return { spec: null, errors: mapIssues(r.error.issues, SplitSpec, input) }
  const spec = r.data
  const errors: FieldErrors = {}
  if (spec.kind === 'class-range') {
    const check = (key: 'train' | 'test', [a, b]: [number, number]) => {
      if (a > b) errors[`${key}.1`] = `Must be at least the first class (${a}).`
      else if (classCount !== null && b > classCount)
        errors[`${key}.1`] = `The dataset has ${classCount} classes: enter at most ${classCount}.`
    }
    check('train', spec.train)
    check('test', spec.test)
    const [a1, b1] = spec.train
    const [a2, b2] = spec.test
    if (!errors['train.1'] && !errors['test.1'] && a1 <= b2 && a2 <= b1)
      errors['test.0'] = 'Train and test classes must not overlap (the protocol is class-disjoint).'
  }
  if (spec.kind === 'group') {
    const overlap = spec.train.filter((g) => spec.test.includes(g))
    if (overlap.length)
      errors['test'] = `A group cannot be in both train and test: ${overlap.join(', ')}.`
  }
  return { spec: Object.keys(errors).length ? null : spec, errors }
}
