import { describe, expect, it } from 'vitest'
import { TrainConfig } from '../../../src-preload/contract'
import { allowedNumber, mapIssues, schemaAt } from './issues'

describe('zod issue mapping', () => {
  it('reads the allowed range from the contract schema', () => {
    expect(allowedNumber(TrainConfig.shape.batchSize)).toBe('a whole number from 4 to 1024')
    expect(allowedNumber(TrainConfig.shape.lr)).toBe('a number, above 0 and at most 1')
    expect(allowedNumber(TrainConfig.shape.tau)).toBe('a number, above 0')
    expect(allowedNumber(TrainConfig.shape.valRatio)).toBe('a number, above 0 and below 1')
  })

  it('follows discriminated unions by their tag to the nested field', () => {
    const v = { split: { kind: 'class-ratio', trainRatio: 3 } }
    const s = schemaAt(TrainConfig, ['split', 'trainRatio'], v)
    expect(s && allowedNumber(s)).toBe('a number, above 0 and below 1')
    const b = { backbone: { kind: 'small-cnn' } }
    const si = schemaAt(TrainConfig, ['backbone', 'inputSize'], b)
    expect(si && allowedNumber(si)).toBe('a whole number from 16 to 128')
  })

  it('maps each issue to its field with a message that says what is allowed', () => {
    const input = {
      datasetId: 1,
      epochs: 0,
      batchSize: 3.5,
      lr: '',
      loss: 'nope',
      split: { kind: 'class-ratio', trainRatio: 2, seed: 1 },
      backbone: { kind: 'local', modelPath: '', featureNode: 'x' }
    }
    const r = TrainConfig.safeParse(input)
    expect(r.success).toBe(false)
    const errors = mapIssues(r.error!.issues, TrainConfig, input)
    expect(errors.epochs).toBe('Must be a whole number from 1 to 1000.')
    expect(errors.batchSize).toBe('Must be a whole number from 4 to 1024.')
    expect(errors.lr).toBe('Enter a number, above 0 and at most 1.')
    expect(errors.loss).toMatch(/^Choose one of: hist, proxy-anchor/)
    expect(errors['split.trainRatio']).toBe('Must be a number, above 0 and below 1.')
    expect(errors['backbone.modelPath']).toBe('Required.')
  })
})
