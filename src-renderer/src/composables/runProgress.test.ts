import { describe, expect, it } from 'vitest'
import type { RunProgress } from '../../../src-preload/contract'
import { describeProgress } from './runProgress'

const p = (x: Partial<RunProgress>): RunProgress => ({
  runId: 1,
  epoch: 1,
  epochs: 10,
  batch: 0,
  batches: 0,
  etaSec: null,
  imagesPerSec: null,
  phase: 'train',
  ...x
})

describe('run progress text', () => {
  it('counts images, not batches, while features are computed', () => {
    const t = describeProgress(
      p({ phase: 'features', epoch: 0, batch: 192, batches: 674 }),
      'running',
      false
    )
    expect(t.counter).toBe('image 192 / 674')
    expect(t.counter).not.toMatch(/batch/)
    expect([t.done, t.total]).toEqual([192, 674])
  })

  it('counts batches over the whole run while training', () => {
    const t = describeProgress(p({ epoch: 2, batch: 5, batches: 30 }), 'running', false)
    expect(t.counter).toBe('epoch 2 / 10 · batch 5 / 30')
    expect([t.done, t.total]).toEqual([35, 300])
  })

  it('counts the refit on all classes like training', () => {
    const refit = {
      ...p({ epoch: 1, batch: 2, batches: 10 }),
      phase: 'refit'
    } as unknown as RunProgress
    const t = describeProgress(refit, 'running', false)
    expect(t.title).toMatch(/Refitting/)
    expect(t.counter).toBe('epoch 1 / 10 · batch 2 / 10')
  })

  it('shows no meaningless batch counter while evaluating', () => {
    const t = describeProgress(
      p({ phase: 'eval', epoch: 3, batch: 0, batches: 30 }),
      'running',
      false
    )
    expect(t.counter).toBe('epoch 3 / 10')
    expect(describeProgress(p({ phase: 'test' }), 'running', false).counter).toBe('')
  })

  it('says Pausing… at once, before the trainer confirms', () => {
    const t = describeProgress(p({ phase: 'features', batch: 5, batches: 9 }), 'running', true)
    expect(t.title).toMatch(/^Pausing…/)
    expect(describeProgress(null, 'paused', true).title).toBe('Paused')
  })
})
