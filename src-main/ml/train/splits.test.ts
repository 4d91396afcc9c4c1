import { describe, expect, it } from 'vitest'
import { TrainConfig } from '../../../src-preload/contract/runs'
import { applyTrainPreset, TRAIN_PRESETS } from '../../../src-preload/contract/presets'
import {
  carveValidation,
  denseLabels,
  planSelection,
  refitEpochs,
  selectionClassCounts,
  selectionTooSmall,
  validationClassCount
} from './splits'

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

describe('selection plan (refit by default)', () => {
  const many = Array.from({ length: 50 * 20 }, (_, i) => ({ classId: i % 50 }))

  it('sizes the carve by rule: the ratio, at least 5 classes for refit (≤ a third), never under 2', () => {
    expect(validationClassCount(50, 0.2)).toBe(10)
    expect(validationClassCount(50, 0.02, 5)).toBe(5)
    expect(validationClassCount(9, 0.1, 5)).toBe(3) // a third of 9
    expect(validationClassCount(4, 0.1, 5)).toBe(2)
    expect(validationClassCount(10, 0.99)).toBe(8)
  })

  it('refit trains the selection phase without the carved classes, then refits on all', () => {
    const p = planSelection(many, 'refit', 0.2, 1)
    expect(p.refit).toBe(true)
    expect(new Set(p.val!.map((i) => i.classId)).size).toBe(10)
    expect(p.train.length + p.val!.length).toBe(many.length)
    expect(p.warning).toBeNull()
    expect(planSelection(many, 'val', 0.2, 1).refit).toBe(false)
    const t = planSelection(many, 'test', 0.2, 1)
    expect(t.val).toBeNull()
    expect(t.train).toHaveLength(many.length)
  })

  it('warns on a split too small to select, and refit skips selection on it', () => {
    expect(selectionTooSmall(2, 40)).toMatch(/too few to select an epoch reliably/)
    expect(selectionTooSmall(5, 100)).toBeNull()
    const eight = Array.from({ length: 8 * 5 }, (_, i) => ({ classId: i % 8 }))
    const v = planSelection(eight, 'val', 0.25, 1)
    expect(v.warning).toMatch(/2 classes and 10 images/)
    const r = planSelection(eight, 'refit', 0.25, 1)
    expect(r.val).toBeNull()
    expect(r.refit).toBe(false)
    expect(r.train).toHaveLength(eight.length)
    expect(r.skipReason).toMatch(/too few/)
    expect(planSelection(eight.slice(0, 3), 'refit', 0.2, 1).skipReason).toMatch(/3 training/)
  })

  it('selects on a small split without a warning when the config accepts it (the same carve)', () => {
    const eight = Array.from({ length: 8 * 5 }, (_, i) => ({ classId: i % 8 }))
    const warned = planSelection(eight, 'val', 0.25, 1)
    const v = planSelection(eight, 'val', 0.25, 1, true)
    expect(v.warning).toBeNull()
    expect(v.skipReason).toBeNull()
    expect(v.note).toMatch(/2 classes and 10 images.*accepted by the config/)
    expect(v.val).toEqual(warned.val)
    expect(v.train).toEqual(warned.train)
    const r = planSelection(eight, 'refit', 0.25, 1, true)
    expect(r.skipReason).toBeNull()
    expect(r.refit).toBe(true)
    expect(new Set(r.val!.map((i) => i.classId)).size).toBe(2)
    // Fewer than 4 classes still cannot be carved, accepted or not.
    expect(planSelection(eight.slice(0, 3), 'refit', 0.2, 1, true).skipReason).toMatch(/3 training/)
    // A split that is large enough has no note.
    const many = Array.from({ length: 20 * 10 }, (_, i) => ({ classId: i % 20 }))
    expect(planSelection(many, 'val', 0.25, 1, true).note).toBeNull()
  })

  it('refits for the longest training within one standard error of the best validation R@1', () => {
    // The Omniglot case: best 73.0 at epoch 19 on 460 queries (se ≈ 2.1); epoch 40 at 71.7.
    const h = Array.from({ length: 40 }, (_, i) => (i === 18 ? 0.73 : i < 5 ? 0.69 : 0.717))
    expect(refitEpochs(h, 460)).toMatchObject({ epochs: 40, bestEpoch: 19, best: 0.73 })
    expect(refitEpochs(h, 460).se).toBeCloseTo(Math.sqrt((0.73 * 0.27) / 460), 12)
    // Clear overfitting: later epochs fall more than one se below the best.
    const over = [0.6, 0.7, 0.8, 0.7, 0.6]
    expect(refitEpochs(over, 10_000).epochs).toBe(3)
    expect(refitEpochs([0.5], 10).epochs).toBe(1)
    expect(() => refitEpochs([], 10)).toThrow(/at least one/)
  })

  it('is the default of a config', () => {
    expect(TrainConfig.parse({ datasetId: 1 }).modelSelection).toBe('refit')
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

  it("the demo preset's own selection does not warn on the demo's 5 training classes; the default still does", () => {
    // The built-in demo: Fashion-MNIST classes 0-4 train (300 images each, DEMO_PER_CLASS), 5-9 test.
    const demoTrain = Array.from({ length: 5 * 300 }, (_, i) => ({ classId: i % 5 }))
    const plan = (c: TrainConfig): ReturnType<typeof planSelection> =>
      planSelection(demoTrain, c.modelSelection, c.valRatio, c.seed, c.acceptSmallValidation)
    const demo = TrainConfig.parse(applyTrainPreset('demo', { datasetId: 1 }))
    expect(demo.modelSelection).toBe('val')
    const p = plan(demo)
    expect(p.warning).toBeNull()
    expect(p.skipReason).toBeNull()
    expect(new Set(p.val!.map((i) => i.classId)).size).toBe(2)
    expect(p.note).toMatch(/2 classes/)
    // The demo trains on what it trained on before (the README's figures): the same carve.
    const before = planSelection(demoTrain, 'val', demo.valRatio, demo.seed)
    expect(p.train).toEqual(before.train)
    expect(before.warning).toMatch(/too few to select/)
    // A user run on the same classes with the defaults is still told.
    expect(plan(TrainConfig.parse({ datasetId: 1 })).skipReason).toMatch(/too few to select/)
    // The user can turn it back off over the preset.
    const off = TrainConfig.parse(
      applyTrainPreset('demo', { datasetId: 1, acceptSmallValidation: false })
    )
    expect(plan(off).warning).toMatch(/too few to select/)
  })
})

describe('selection class counts (the rule the wizard shares)', () => {
  it('match planSelection for every mode, class count, ratio and class size', () => {
    const classesOf = (xs: { classId: number }[] | null): number =>
      xs ? new Set(xs.map((i) => i.classId)).size : 0
    for (const mode of ['refit', 'val', 'test'] as const)
      for (let classes = 2; classes <= 40; classes++)
        for (const perClass of [4, 10, 30])
          for (const ratio of [0.1, 0.2, 0.5])
            for (const accept of [false, true]) {
              if (mode === 'val' && classes < 4) continue // planSelection refuses: too few classes
              const items = Array.from({ length: classes * perClass }, (_, i) => ({
                classId: i % classes
              }))
              const plan = planSelection(items, mode, ratio, 3, accept)
              const val = classesOf(plan.val)
              // The images of the classes the carve would take (all classes are perClass large).
              const carved = validationClassCount(classes, ratio, mode === 'refit' ? 5 : 2)
              const counts = selectionClassCounts(mode, classes, ratio, accept, carved * perClass)
              const at = `${mode} ${classes}×${perClass} r=${ratio} accept=${accept}`
              expect(counts.val, at).toBe(val)
              expect(counts.selectionTrain, at).toBe(classesOf(plan.train))
              expect(counts.finalTrain, at).toBe(plan.refit ? classes : classesOf(plan.train))
              expect(counts.skipReason, at).toBe(plan.skipReason)
            }
  })
})
