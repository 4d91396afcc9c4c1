import { describe, expect, it } from 'vitest'
import { TrainConfig, type DatasetSummary } from '../../../src-preload/contract'
import {
  applyPreset,
  defaultForm,
  errorsOfStep,
  formFromConfig,
  presetOf,
  restoreForm,
  toConfigInput,
  validateForm
} from './trainForm'
import { configWarnings } from './trainWarnings'

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

describe('train form', () => {
  it('defaults to the contract defaults and validates once a dataset is chosen', () => {
    const f = defaultForm()
    expect(validateForm(f, null).errors.datasetId).toBe('Choose a dataset.')
    f.datasetId = 7
    const r = validateForm(f, dataset)
    expect(r.errors).toEqual({})
    expect(r.config).toEqual(TrainConfig.parse({ datasetId: 7 }))
  })

  it('reports bad fields on their step with what is allowed', () => {
    const f = defaultForm()
    f.datasetId = 7
    f.epochs = ''
    f.embeddingSize = 3
    f.split.kind = 'class-range'
    f.split.trainTo = 30
    const r = validateForm(f, dataset)
    expect(r.config).toBeNull()
    expect(r.errors.epochs).toBe('Enter a whole number from 1 to 1000.')
    expect(r.errors.embeddingSize).toBe('Must be a whole number from 8 to 4096.')
    expect(r.errors['split.train.1']).toMatch(/20 classes/)
    expect(Object.keys(errorsOfStep(r.errors, 'model'))).toEqual(['embeddingSize'])
    expect(Object.keys(errorsOfStep(r.errors, 'dataset'))).toEqual(['split.train.1'])
  })

  it('flags overlapping class ranges', () => {
    const f = defaultForm()
    f.datasetId = 7
    Object.assign(f.split, {
      kind: 'class-range',
      trainFrom: 1,
      trainTo: 12,
      testFrom: 10,
      testTo: 20
    })
    expect(validateForm(f, dataset).errors['split.test.0']).toMatch(/overlap/)
  })

  it('builds the backbone of the chosen kind only', () => {
    const f = defaultForm()
    f.datasetId = 1
    f.backbone.kind = 'local'
    f.backbone.modelPath = ' /m/model.json '
    f.backbone.featureNode = 'out_relu'
    const input = toConfigInput(f)
    expect(input.backbone).toEqual({
      kind: 'local',
      modelPath: '/m/model.json',
      featureNode: 'out_relu',
      inputSize: 224,
      mean: [0, 0, 0],
      std: [1, 1, 1]
    })
    expect(input.name).toBeUndefined()
  })

  it('knows which preset the form matches and falls back to custom after an edit', () => {
    const f = defaultForm()
    expect(presetOf(f)).toBe('cub')
    applyPreset(f, 'sop')
    expect(f.tau).toBe(16)
    expect(f.bnFreeze).toBe(false)
    expect(presetOf(f)).toBe('sop')
    f.tau = 20
    expect(presetOf(f)).toBe('custom')
    // The demo preset is the CLI's `--preset demo`: a small CNN fine-tuned at 24 px.
    applyPreset(f, 'demo')
    expect(f.backbone.kind).toBe('small-cnn')
    expect(f.backbone.smallInputSize).toBe(24)
    expect(f.frozen).toBe(false)
    expect(presetOf(f)).toBe('demo')
    f.backbone.smallInputSize = 32
    expect(presetOf(f)).toBe('custom')
  })

  it('Demo then CUB: the CUB preset sets everything it implies, nothing of Demo stays', () => {
    const f = defaultForm()
    f.seed = 7
    f.name = 'mine'
    applyPreset(f, 'demo')
    expect(f.warm).toBe(0)
    expect(f.modelSelection).toBe('val')
    expect(f.acceptSmallValidation).toBe(true)
    applyPreset(f, 'cub')
    const fresh = defaultForm()
    applyPreset(fresh, 'cub')
    expect(f.backbone.kind).toBe('mobilenetv2')
    expect(f.embeddingSize).toBe(512)
    expect(f.hgnnHidden).toBe(fresh.hgnnHidden)
    expect(f.warm).toBe(fresh.warm)
    expect(f.warm).not.toBe(0)
    expect(f.frozen).toBe(fresh.frozen)
    expect(f.batchSize).toBe(fresh.batchSize)
    expect(f.acceptSmallValidation).toBe(false)
    expect(presetOf(f)).toBe('cub')
    // The user's own entries are not the preset's.
    expect(f.seed).toBe(7)
    expect(f.name).toBe('mine')
  })

  it('shows a preset as chosen only while every setting it implies still matches', () => {
    const f = defaultForm()
    applyPreset(f, 'cub')
    f.hgnnHidden = 128
    expect(presetOf(f)).toBe('custom')
  })

  it('warns about unwise choices', () => {
    const base = TrainConfig.parse({ datasetId: 7 })
    expect(configWarnings(base, dataset)).toEqual([])
    const balanced = { ...base, sampler: 'balanced' as const, batchSize: 64, ipc: 2 }
    // refit skips the carve of 3 of these 10 classes (too small), so all 10 train.
    expect(configWarnings(balanced, dataset)[0]).toMatch(/needs 32 classes.*only about 10/)
    const onTest = { ...base, modelSelection: 'test' as const }
    expect(configWarnings(onTest, dataset).join(' ')).toMatch(/optimistic/)
  })

  it('catches absurd values: lr 1 and τ 1e5', () => {
    const base = TrainConfig.parse({ datasetId: 7 })
    expect(configWarnings({ ...base, lr: 1 }, dataset).join(' ')).toMatch(
      /learning rate 1 is far above/
    )
    expect(configWarnings({ ...base, tau: 1e5 }, dataset).join(' ')).toMatch(
      /τ 100000 is far above/
    )
    // τ means nothing to other losses
    expect(
      configWarnings({ ...base, loss: 'triplet', sampler: 'balanced', tau: 1e5 }, null)
    ).toEqual([])
  })

  it('restores saved entries and ignores malformed ones', () => {
    const f = defaultForm()
    f.epochs = 5
    f.backbone.kind = 'small-cnn'
    const restored = restoreForm(JSON.stringify({ ...f, lr: 'bad', extra: 1 }))
    expect(restored.epochs).toBe(5)
    expect(restored.backbone.kind).toBe('small-cnn')
    expect(restored.lr).toBe(defaultForm().lr)
    expect(restoreForm('{not json')).toEqual(defaultForm())
  })

  it('round-trips a stored config through the form', () => {
    const cfg = TrainConfig.parse({
      datasetId: 3,
      split: { kind: 'class-ratio', trainRatio: 0.6, seed: 4 },
      backbone: { kind: 'small-cnn', inputSize: 28 },
      epochs: 2,
      name: 'x'
    })
    const f = formFromConfig(cfg)
    const r = validateForm(f, null)
    expect(r.config).toEqual(cfg)
  })
})
