import { describe, expect, it } from 'vitest'
import { TrainConfig, type RunSummary } from '../../../src-preload/contract'
import { defaultExperimentForm, formAxes, formBase, previewAxis } from './experimentForm'

describe('experiment form', () => {
  it('previews axis values and explains bad ones', () => {
    expect(previewAxis('tau', '4:64:x2')).toEqual({ values: [4, 8, 16, 32, 64] })
    expect(previewAxis('batchSize', '16,20.5')).toEqual({
      error: 'batchSize takes whole numbers; 20.5 is not one'
    })
  })

  it('builds one axis, or two for a grid, and refuses the same parameter twice', () => {
    const f = defaultExperimentForm()
    expect(formAxes(f)).toEqual({ axes: [{ param: 'tau', values: [4, 8, 16, 32, 64] }] })
    f.grid = true
    expect(formAxes(f)).toMatchObject({
      axes: [{ param: 'tau' }, { param: 'alpha', values: [0.5, 1.1, 2] }]
    })
    f.param2 = 'tau'
    expect(formAxes(f)).toEqual({ error: 'the two parameters of a grid must differ' })
  })

  it('makes the base from a preset with frozen mode on by default, or copies a run config', () => {
    const f = defaultExperimentForm()
    expect(formBase(f, [])).toEqual({ error: 'choose a dataset' })
    f.datasetId = 4
    f.preset = 'demo' // the demo preset fine-tunes; an experiment stays frozen unless unticked
    const b = formBase(f, [])
    expect('base' in b && b.base).toMatchObject({
      datasetId: 4,
      frozen: true,
      epochs: 10,
      lr: 3e-3
    })
    const run = {
      id: 9,
      config: TrainConfig.parse({ datasetId: 2, tau: 7, name: 'old' })
    } as RunSummary
    f.fromRunId = 9
    f.frozen = false
    const c = formBase(f, [run])
    expect('base' in c && c.base).toMatchObject({ datasetId: 2, tau: 7, frozen: false, epochs: 10 })
    expect('base' in c && c.base.name).toBeUndefined()
  })
})
