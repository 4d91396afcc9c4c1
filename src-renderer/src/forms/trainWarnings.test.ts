import { describe, expect, it } from 'vitest'
import { TrainConfig, type DatasetSummary } from '../../../src-preload/contract'
import { reviewRows } from './reviewRows'
import { configWarnings, splitClassCounts, trainClassEstimate } from './trainWarnings'

/** A dataset with `train` training classes of 20 images each (and as many test classes). */
function dataset(train: number): DatasetSummary {
  return {
    id: 7,
    name: 'birds',
    root: '/x',
    format: 'folder',
    classCount: 2 * train,
    imageCount: 40 * train,
    problemCount: 0,
    splits: [
      { name: 'train', classCount: train, imageCount: 20 * train },
      { name: 'test', classCount: train, imageCount: 20 * train }
    ],
    createdAt: '2024-01-01T00:00:00Z',
    rootExists: true,
    builtIn: false
  }
}
const cfg = (extra: Partial<TrainConfig> = {}): TrainConfig =>
  TrainConfig.parse({ datasetId: 7, ...extra })

describe('class counts of the selection plan (the trainer rule)', () => {
  it('refit carves at least 5 of 15+ classes, trains the selection on the rest, refits on all', () => {
    expect(splitClassCounts(cfg({ modelSelection: 'refit' }), dataset(20))).toEqual({
      train: 20,
      val: 5,
      selectionTrain: 15,
      finalTrain: 20,
      skipReason: null
    })
    // val mode keeps the plain ratio (4 of 20) and never trains on them.
    expect(splitClassCounts(cfg({ modelSelection: 'val' }), dataset(20))).toMatchObject({
      val: 4,
      selectionTrain: 16,
      finalTrain: 16
    })
    expect(splitClassCounts(cfg({ modelSelection: 'test' }), dataset(20))).toMatchObject({
      val: 0,
      finalTrain: 20
    })
  })

  it('refit skips a selection split that is too small and trains every class', () => {
    const c = splitClassCounts(cfg({ modelSelection: 'refit' }), dataset(10))!
    expect(c).toMatchObject({ val: 0, selectionTrain: 10, finalTrain: 10 })
    expect(c.skipReason).toMatch(/3 classes and 60 images, too few/)
    expect(splitClassCounts(cfg({ modelSelection: 'refit' }), dataset(3))!.skipReason).toMatch(
      /only 3 training classes/
    )
    // acceptSmallValidation selects on it anyway.
    expect(
      splitClassCounts(cfg({ modelSelection: 'refit', acceptSmallValidation: true }), dataset(10))
    ).toMatchObject({ val: 3, selectionTrain: 7, finalTrain: 10, skipReason: null })
  })

  it('warns about a balanced batch with the classes of the selection phase', () => {
    const c = cfg({ modelSelection: 'refit', sampler: 'balanced', batchSize: 64, ipc: 2 })
    expect(trainClassEstimate(c, dataset(20))).toBe(15)
    expect(configWarnings(c, dataset(20))[0]).toMatch(/needs 32 classes.*only about 15/)
    expect(trainClassEstimate(c, dataset(10))).toBe(10)
  })

  it('the review says what refit does with the split', () => {
    const rows = (c: TrainConfig, n: number): Record<string, string> =>
      Object.fromEntries(reviewRows(c, { dataset: dataset(n), presetLabel: 'x', device: 'cpu' }))
    expect(rows(cfg(), 20)['Validation classes']).toBe('5 of 20 training classes (20 %)')
    const skipped = rows(cfg(), 10)
    expect(skipped['Validation classes']).toBe('none')
    expect(skipped['Best epoch chosen on']).toMatch(/^no selection: .*too few.*trains all classes/)
  })
})
