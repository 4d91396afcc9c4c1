import { describe, expect, it } from 'vitest'
import { TrainConfig } from '../../../src-preload/contract/runs'
import { applyTrainPreset, TRAIN_PRESETS } from '../../../src-preload/contract/presets'
import { carveValidation, denseLabels } from './splits'

const items = Array.from({ length: 10 * 5 }, (_, i) => ({ classId: 100 + (i % 10), k: i }))

describe('validation split', () => {
  it('moves a seeded share of whole classes to validation, class-disjoint', () => {
    const a = carveValidation(items, 0.2, 1)
    expect(a.valClassIds).toHaveLength(2)
    expect(a.val).toHaveLength(10)
    expect(a.train).toHaveLength(40)
    const trainClasses = new Set(a.train.map((i) => i.classId))
    for (const c of a.valClassIds) expect(trainClasses.has(c)).toBe(false)
    expect(carveValidation(items, 0.2, 1).valClassIds).toEqual(a.valClassIds)
    const others = [2, 3, 4, 5, 6].map((s) => carveValidation(items, 0.2, s).valClassIds.join())
    expect(new Set(others).size).toBeGreaterThan(1)
  })

  it('keeps at least two classes on each side, and refuses too few classes', () => {
    expect(carveValidation(items, 0.01, 1).valClassIds).toHaveLength(2)
    expect(
      carveValidation(items, 0.99, 1)
        .train.map((i) => i.classId)
        .filter((c, i, a) => a.indexOf(c) === i)
    ).toHaveLength(2)
    expect(() =>
      carveValidation(
        items.filter((i) => i.classId < 103),
        0.2,
        1
      )
    ).toThrow(/at least 4 training classes/)
  })

  it('maps dataset class ids to dense labels in id order', () => {
    const { labels, classIds } = denseLabels([
      { classId: 42 },
      { classId: 7 },
      { classId: 42 },
      { classId: 99 }
    ])
    expect(classIds).toEqual([7, 42, 99])
    expect(Array.from(labels)).toEqual([1, 0, 1, 2])
  })
})

describe('presets', () => {
  it('restate the official table and yield valid configs, the user winning over the preset', () => {
    expect(TRAIN_PRESETS.sop).toMatchObject({ tau: 16, alpha: 2, lrDs: 1e-2, bnFreeze: false })
    for (const name of ['cub', 'cars', 'sop', 'demo'] as const) {
      expect(TrainConfig.safeParse(applyTrainPreset(name, { datasetId: 1 })).success).toBe(true)
    }
    const c = TrainConfig.parse(applyTrainPreset('cub', { datasetId: 1, epochs: 3, lr: undefined }))
    expect(c.epochs).toBe(3)
    expect(c.lr).toBe(1.2e-4)
  })
})
