import { describe, expect, it } from 'vitest'
import { TrainConfig, type DatasetSummary } from '../../../src-preload/contract'
import { reviewRows } from './reviewRows'
import { applyPreset, defaultForm, validateForm } from './trainForm'

const dataset: DatasetSummary = {
  id: 7,
  name: 'birds',
  root: '/x',
  format: 'folder',
  classCount: 20,
  imageCount: 400,
  problemCount: 0,
  splits: [
    { name: 'train', classCount: 10, imageCount: 200 },
    { name: 'test', classCount: 10, imageCount: 200 }
  ],
  createdAt: '2024-01-01T00:00:00Z',
  rootExists: true,
  builtIn: false
}
const ctx = { dataset, presetLabel: 'CUB-200-2011 (HIST paper)', device: 'wasm' }

describe('review rows', () => {
  it('lists every effective setting, including the ones a preset used to leak', () => {
    const c = TrainConfig.parse({ datasetId: 7, name: 'birds-1', modelSelection: 'val' })
    const rows = Object.fromEntries(reviewRows(c, ctx))
    expect(rows['Run name']).toBe('birds-1')
    expect(rows['HGNN hidden size']).toBe(String(c.hgnnHidden))
    expect(rows['Warm-up epochs']).toContain(String(c.warm))
    expect(rows['Validation classes']).toBe('2 of 10 training classes (20 %)')
    expect(rows.Device).toBe('wasm')
    expect(rows.Split).toBe("the dataset's own: 10 classes train, 10 test")
    for (const label of ['Weight decay', 'Batch-norm statistics', 'Seed', 'Embedding size'])
      expect(rows[label]).toBeTruthy()
  })

  it('says how a fine-tuning batch is split (gradient accumulation), from the probe', () => {
    const fine = TrainConfig.parse({ datasetId: 7, frozen: false })
    const at = (c: TrainConfig, m: number | null): string =>
      Object.fromEntries(reviewRows(c, { ...ctx, microBatch: m }))['Gradient accumulation']
    expect(at(fine, 8)).toBe(
      '4 micro-batches of 8 per batch of 32 (auto), one exact step for the whole batch'
    )
    expect(at(fine, 32)).toBe('none: the whole batch at once (auto)')
    expect(at(fine, null)).toBe('auto (measuring…)')
    const set = TrainConfig.parse({ datasetId: 7, frozen: false, microBatch: 5 })
    expect(at(set, null)).toMatch(/^7 micro-batches of 5 .*\(set\)/)
    expect(at(TrainConfig.parse({ datasetId: 7 }), 8)).toMatch(/^none \(frozen/)
  })

  it('shows the CUB values after Demo → CUB', () => {
    const f = defaultForm()
    f.datasetId = 7
    applyPreset(f, 'demo')
    applyPreset(f, 'cub')
    const c = validateForm(f, dataset).config!
    const rows = Object.fromEntries(reviewRows(c, ctx))
    expect(rows.Backbone).toMatch(/MobileNetV2/)
    expect(rows['Embedding size']).toBe('512')
    expect(rows['Epochs × batch']).toMatch(/^40 × /)
    expect(rows['HGNN hidden size']).not.toBe('128')
    expect(rows['Best epoch chosen on']).not.toMatch(/small split/)
  })

  it('says the demo preset accepts its small validation split', () => {
    const f = defaultForm()
    f.datasetId = 7
    applyPreset(f, 'demo')
    const rows = Object.fromEntries(reviewRows(validateForm(f, dataset).config!, ctx))
    expect(rows['Best epoch chosen on']).toBe(
      'validation classes (they are not trained on); a small split is accepted'
    )
  })

  it('names an automatic run name and a missing split', () => {
    const c = TrainConfig.parse({ datasetId: 7 })
    const own = { ...dataset, splits: [] }
    const rows = Object.fromEntries(reviewRows(c, { ...ctx, dataset: own }))
    expect(rows['Run name']).toMatch(/automatic/)
    expect(rows.Split).toMatch(/seeded half\/half/)
  })
})
