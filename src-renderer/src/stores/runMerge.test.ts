import { describe, expect, it } from 'vitest'
import type { RunDetail } from '../../../src-preload/contract'
import { TrainConfig } from '../../../src-preload/contract'
import { applyRunEvent } from './runMerge'

function run(): RunDetail {
  return {
    id: 4,
    name: 'r',
    status: 'running',
    datasetId: 1,
    datasetName: 'd',
    config: TrainConfig.parse({ datasetId: 1 }),
    backend: 'wasm',
    appVersion: '0',
    createdAt: '',
    finishedAt: null,
    message: null,
    bestEpoch: null,
    bestMetrics: null,
    baselineMetrics: null,
    testMetrics: null,
    rawMetrics: null,
    testFrom: null,
    belowBaseline: false,
    epochsDone: 0,
    tags: [],
    note: '',
    steps: [0, 1, 2].map((step) => ({ step, epoch: 1, loss: 1, lds: 1, ce: 0, lr: 1e-4 })),
    epochs: [],
    log: [{ time: 't0', level: 'info', message: 'started' }]
  }
}

const step = (n: number) => ({ step: n, epoch: 1, loss: 0.5, lds: 0.3, ce: 0.2, lr: 1e-4 })

describe('applyRunEvent', () => {
  it('appends only steps newer than the loaded ones (buffered overlap is dropped)', () => {
    const d = run()
    expect(applyRunEvent(d, { type: 'run.steps', runId: 4, steps: [step(1), step(2)] })).toBe(false)
    expect(
      applyRunEvent(d, { type: 'run.steps', runId: 4, steps: [step(2), step(3), step(4)] })
    ).toBe(true)
    expect(d.steps.map((s) => s.step)).toEqual([0, 1, 2, 3, 4])
  })

  it('ignores events of other runs', () => {
    const d = run()
    expect(applyRunEvent(d, { type: 'run.steps', runId: 5, steps: [step(9)] })).toBe(false)
    expect(applyRunEvent(d, { type: 'runs.changed' })).toBe(false)
    expect(d.steps).toHaveLength(3)
  })

  it('records epochs once and tracks the best R@1', () => {
    const d = run()
    const m = (r1: number) => ({ recall: { '1': r1 }, rPrecision: 0, mapAtR: 0 })
    applyRunEvent(d, {
      type: 'run.epoch',
      runId: 4,
      record: { epoch: 1, metrics: m(0.5), seconds: 1, imagesPerSec: 1 }
    })
    applyRunEvent(d, {
      type: 'run.epoch',
      runId: 4,
      record: { epoch: 2, metrics: m(0.4), seconds: 1, imagesPerSec: 1 }
    })
    applyRunEvent(d, {
      type: 'run.epoch',
      runId: 4,
      record: { epoch: 2, metrics: m(0.6), seconds: 1, imagesPerSec: 1 }
    })
    expect(d.epochs.map((e) => e.epoch)).toEqual([1, 2])
    expect(d.bestEpoch).toBe(2)
    expect(d.epochsDone).toBe(2)
  })

  it('dedupes log entries and updates the status', () => {
    const d = run()
    expect(
      applyRunEvent(d, {
        type: 'run.log',
        runId: 4,
        entry: { time: 't0', level: 'info', message: 'started' }
      })
    ).toBe(false)
    applyRunEvent(d, {
      type: 'run.log',
      runId: 4,
      entry: { time: 't1', level: 'error', message: 'NaN loss, stopped' }
    })
    applyRunEvent(d, { type: 'run.status', runId: 4, status: 'failed', message: 'NaN loss' })
    expect(d.log).toHaveLength(2)
    expect(d.status).toBe('failed')
    expect(d.message).toBe('NaN loss')
  })
})
