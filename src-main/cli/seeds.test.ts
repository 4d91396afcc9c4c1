import { describe, expect, it } from 'vitest'
import { meanSd, parseSeedList } from './seeds'

describe('hist train --seeds', () => {
  it('parses a comma-separated list of distinct integer seeds', () => {
    expect(parseSeedList('1,2,3')).toEqual([1, 2, 3])
    expect(parseSeedList(' 7 , -1')).toEqual([7, -1])
    expect(() => parseSeedList('1,,2')).toThrow(/comma-separated list of integers/)
    expect(() => parseSeedList('1,x')).toThrow(/comma-separated list of integers/)
    expect(() => parseSeedList('2,2')).toThrow(/twice/)
  })

  it('prints mean ± sample sd in percent', () => {
    expect(meanSd([0.5, 0.7])).toBe(`60.0 ± ${(Math.SQRT2 * 10).toFixed(1)}`)
    expect(meanSd([0.61])).toBe('61.0 ± 0.0')
  })
})
