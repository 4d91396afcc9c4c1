import { describe, expect, it } from 'vitest'
import { AblationVariant } from '../../src-preload/contract/experiments'
import { TrainConfig } from '../../src-preload/contract/runs'
import { aggregateStatus, formatValue, planAblation, planSweep } from './plan'

const base = TrainConfig.parse({ datasetId: 3, epochs: 2 })

describe('experiment planning', () => {
  it('a sweep makes one config per value with the value set and a readable name', () => {
    const pts = planSweep(base, [{ param: 'tau', values: [4, 8, 16] }], 'my sweep')
    expect(pts.map((p) => p.label)).toEqual(['tau=4', 'tau=8', 'tau=16'])
    expect(pts.map((p) => p.config.tau)).toEqual([4, 8, 16])
    expect(pts[1].config).toMatchObject({ datasetId: 3, epochs: 2, name: 'my sweep · tau=8' })
  })

  it('a two-axis grid makes every cell, first axis outer; ipc switches on the balanced sampler', () => {
    const pts = planSweep(
      base,
      [
        { param: 'lr', values: [1e-4, 1e-3] },
        { param: 'ipc', values: [2, 4] }
      ],
      'g'
    )
    expect(pts.map((p) => p.values)).toEqual([
      { lr: 1e-4, ipc: 2 },
      { lr: 1e-4, ipc: 4 },
      { lr: 1e-3, ipc: 2 },
      { lr: 1e-3, ipc: 4 }
    ])
    expect(pts[0].label).toBe('lr=1e-4, ipc=2')
    expect(pts[3].config).toMatchObject({ lr: 1e-3, ipc: 4, sampler: 'balanced' })
    expect(() => planSweep(base, [{ param: 'tau', values: [0] }], 'x')).toThrow(/out of range/)
  })

  it('the ablation set covers the seven variants with the right switches', () => {
    const pts = planAblation(base, undefined, 'abl')
    expect(pts.map((p) => p.variant)).toEqual(AblationVariant.options)
    const cfg = Object.fromEntries(pts.map((p) => [p.variant, TrainConfig.parse(p.config)]))
    expect(cfg.hist).toMatchObject({ loss: 'hist', ls: 1, histDs: true, histGraph: 'hypergraph' })
    expect(cfg['hist-ds-only']).toMatchObject({ loss: 'hist', ls: 0, histDs: true })
    expect(cfg['hist-ce-only']).toMatchObject({ loss: 'hist', ls: 1, histDs: false })
    expect(cfg['hist-graph']).toMatchObject({ loss: 'hist', histGraph: 'graph' })
    expect(cfg['proxy-anchor'].loss).toBe('proxy-anchor')
    expect(cfg['multi-similarity']).toMatchObject({ loss: 'multi-similarity', sampler: 'balanced' })
    for (const c of Object.values(cfg)) expect(c).toMatchObject({ datasetId: 3, epochs: 2 })
    expect(() => planAblation(base, ['hist', 'hist'], 'x')).toThrow(/twice/)
  })

  it('aggregates run statuses', () => {
    expect(aggregateStatus(['queued', 'queued'])).toBe('queued')
    expect(aggregateStatus(['completed', 'queued'])).toBe('running')
    expect(aggregateStatus(['completed', 'running'])).toBe('running')
    expect(aggregateStatus(['completed', 'completed'])).toBe('completed')
    expect(aggregateStatus(['completed', 'failed'])).toBe('partial')
    expect(aggregateStatus(['completed', 'removed'])).toBe('partial')
    expect(aggregateStatus(['failed', 'failed'])).toBe('failed')
    expect(aggregateStatus(['cancelled', 'failed'])).toBe('cancelled')
  })

  it('formats values compactly', () => {
    expect(formatValue(1e-4)).toBe('1e-4')
    expect(formatValue(32)).toBe('32')
    expect(formatValue(0.1 + 0.2)).toBe('0.3')
  })
})
