import { describe, expect, it } from 'vitest'
import type { StepRecord } from '../../../../src-preload/contract'
import { lrLabel, lrOption } from './lr'

describe('learning-rate chart', () => {
  it('gives distinct labels to the ticks of a narrow linear range', () => {
    const ticks = [1e-4, 1.05e-4, 1.1e-4, 1.15e-4, 1.2e-4]
    const labels = ticks.map(lrLabel)
    expect(new Set(labels).size).toBe(ticks.length)
    expect(labels[0]).toBe('1e-4')
    expect(labels[2]).toBe('1.1e-4')
  })

  it('uses the same label function on the axis, and a log axis only past a decade', () => {
    const steps = (lrs: number[]): StepRecord[] =>
      lrs.map((lr, i) => ({ step: i, epoch: 1, loss: 1, lds: null, ce: null, lr }))
    const lin = lrOption(steps([1e-4, 1.2e-4])) as {
      yAxis: { type: string; axisLabel: { formatter: (v: number) => string } }
    }
    expect(lin.yAxis.type).toBe('value')
    expect(lin.yAxis.axisLabel.formatter(1.1e-4)).toBe('1.1e-4')
    const log = lrOption(steps([1e-5, 1e-3])) as { yAxis: { type: string } }
    expect(log.yAxis.type).toBe('log')
  })
})
