import { describe, expect, it } from 'vitest'
import { MAX_SWEEP_VALUES, parseSweepValues, SweepValuesError } from './sweepValues'

describe('parseSweepValues', () => {
  it('parses a list', () => {
    expect(parseSweepValues('tau', '4,8,16,32,64')).toEqual([4, 8, 16, 32, 64])
    expect(parseSweepValues('lr', ' 1e-4 , 3e-4,1e-3 ')).toEqual([1e-4, 3e-4, 1e-3])
  })

  it('parses a linear range with its stop included and no float noise', () => {
    expect(parseSweepValues('alpha', '0.5:2:0.5')).toEqual([0.5, 1, 1.5, 2])
    expect(parseSweepValues('ls', '0:0.3:0.1')).toEqual([0, 0.1, 0.2, 0.3])
    expect(parseSweepValues('tau', '10:1:-3')).toEqual([10, 7, 4, 1])
    // stop not on a step: the range ends before it
    expect(parseSweepValues('embeddingSize', '64:200:64')).toEqual([64, 128, 192])
  })

  it('parses a geometric range (×factor)', () => {
    expect(parseSweepValues('tau', '4:64:x2')).toEqual([4, 8, 16, 32, 64])
    expect(parseSweepValues('batchSize', '128:16:x0.5')).toEqual([128, 64, 32, 16])
  })

  it('parses a log range with N points, both ends exact', () => {
    const v = parseSweepValues('lr', '1e-4:1e-2:log3')
    expect(v).toEqual([1e-4, 1e-3, 1e-2])
    const w = parseSweepValues('tau', '4:64:log5')
    expect(w[0]).toBe(4)
    expect(w[4]).toBe(64)
    expect(w[2]).toBeCloseTo(16, 9)
  })

  it('refuses bad input with a clear, named error', () => {
    const bad: [Parameters<typeof parseSweepValues>, RegExp][] = [
      [['tau', ''], /no values given for tau/],
      [['tau', '4,abc,16'], /value 2 "abc" is not a number/],
      [['tau', '4,,16'], /value 2 "" is not a number/],
      [['tau', '4:64'], /a range is start:stop:step/],
      [['tau', '4:64:0'], /step must not be 0/],
      [['tau', '64:4:2'], /step 2 never goes from 64 to 4/],
      [['tau', '4:64:x1'], /factor 1 must be positive and not 1/],
      [['tau', '0:64:x2'], /geometric range needs a positive start/],
      [['lr', '0:1e-2:log3'], /log range needs a positive start and stop/],
      [['lr', '1e-4:1e-2:log1'], /at least 2 values/],
      [['tau', '4,8:16'], /either a list/],
      [['tau', '0,4'], /tau = 0 is out of range \(> 0/],
      [['ls', '-1,1'], /ls = -1 is out of range \(≥ 0/],
      [['embeddingSize', '64,100.5'], /whole numbers; 100.5/],
      [['ipc', '1,2'], /ipc = 1 is out of range/],
      [['tau', '8,8'], /8 is listed twice/],
      [['tau', `1:1000:1`], new RegExp(`at most ${MAX_SWEEP_VALUES}`)]
    ]
    for (const [args, re] of bad) {
      let err: unknown
      try {
        parseSweepValues(...args)
      } catch (e) {
        err = e
      }
      expect(err, args.join(' ')).toBeInstanceOf(SweepValuesError)
      expect((err as Error).message, args.join(' ')).toMatch(re)
    }
  })
})
