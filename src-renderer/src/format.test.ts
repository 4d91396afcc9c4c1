import { describe, expect, it } from 'vitest'
import {
  backendLabel,
  formatDuration,
  formatNumber,
  formatPercent,
  plural,
  isBelowBaseline,
  progressText,
  selectionSplit
} from './format'

describe('format helpers', () => {
  it('formats durations for people', () => {
    expect(formatDuration(12.4)).toBe('12 s')
    expect(formatDuration(185)).toBe('3 min 05 s')
    expect(formatDuration(3720)).toBe('1 h 02 min')
    expect(formatDuration(null)).toBe('—')
  })
  it('formats percentages and numbers', () => {
    expect(formatPercent(0.615)).toBe('61.5 %')
    expect(formatPercent(undefined)).toBe('—')
    expect(formatNumber(1.2e-4)).toBe('1.20e-4')
    expect(formatNumber(0.123456)).toBe('0.1235')
    expect(formatNumber(true)).toBe('yes')
    expect(formatNumber({ kind: 'preset' })).toBe('{"kind":"preset"}')
  })
  it('pluralises', () => {
    expect(plural(1, 'image')).toBe('1 image')
    expect(plural(2, 'class', 'classes')).toBe('2 classes')
  })
  it('shows a placeholder, not an empty "backend", until the trainer reports in', () => {
    expect(backendLabel('')).toBe('backend not known yet')
    expect(backendLabel(null)).toBe('backend not known yet')
    expect(backendLabel('wasm')).toBe('backend wasm')
  })
  it('names the split that selects the epoch', () => {
    expect(selectionSplit({ modelSelection: 'test' })).toBe('test split')
    expect(selectionSplit({ modelSelection: 'val' })).toBe('validation split')
    expect(selectionSplit({ modelSelection: 'refit' })).toBe('validation split')
  })
  it('flags a run whose test R@1 fell below its untrained baseline', () => {
    const m = (r1: number) => ({ recall: { '1': r1 } })
    expect(isBelowBaseline({ testMetrics: m(0.467), baselineMetrics: m(0.781) })).toBe(true)
    expect(isBelowBaseline({ testMetrics: m(0.8), baselineMetrics: m(0.781) })).toBe(false)
    expect(isBelowBaseline({ testMetrics: null, baselineMetrics: m(0.781) })).toBe(false)
    expect(isBelowBaseline({ belowBaseline: true, testMetrics: null, baselineMetrics: null })).toBe(
      true
    )
  })
})

describe('progressText', () => {
  it('counts only where the count says something', () => {
    // A one-step job (the PCA map) showed "— 0 of 1".
    expect(progressText({ message: 'Map of run 1: PCA of 1,500 images', done: 0, total: 1 })).toBe(
      'Map of run 1: PCA of 1,500 images'
    )
    // UMAP counts its epochs in the message already ("… epoch 10 of 200 — 10 of 200").
    const umap = 'Map of run 1: UMAP of 1,500 images, epoch 10 of 200'
    expect(progressText({ message: umap, done: 10, total: 200 })).toBe(umap)
    expect(
      progressText({ message: 'Map of run 1: embedding images', done: 1200, total: 3000 })
    ).toBe(
      `Map of run 1: embedding images — ${(1200).toLocaleString()} of ${(3000).toLocaleString()}`
    )
    expect(progressText({ message: 'Starting', done: 0, total: 0 })).toBe('Starting')
  })
})
