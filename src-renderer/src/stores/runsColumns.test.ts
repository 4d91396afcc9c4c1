import { describe, expect, it } from 'vitest'
import { runsSchemas } from '../../../src-preload/contract/runs'
import { DEFAULT_COLUMNS, parseFilter, RUNS_COLUMNS } from './runsColumns'

describe('runs table filter box and columns', () => {
  it('parses key=value pairs and tag:name', () => {
    expect(parseFilter('  loss=hist lr=0.0001 tag:baseline ')).toEqual({
      filters: [
        { key: 'loss', value: 'hist' },
        { key: 'lr', value: '0.0001' }
      ],
      tag: 'baseline'
    })
    expect(parseFilter('')).toEqual({ filters: [], tag: undefined })
  })

  it('names the token it cannot read', () => {
    expect(parseFilter('loss=hist oops').error).toMatch(/"oops": write key=value/)
    expect(parseFilter('=x').error).toMatch(/"=x"/)
  })

  it('names an unknown key before asking the server (which would refuse the whole query)', () => {
    expect(parseFilter('loss=hist nonsense=1').error).toMatch(
      /^"nonsense" is not a column or setting to filter by: try status, .*lr/
    )
    expect(parseFilter('constructor=1').error).toMatch(/"constructor" is not a column/)
    // Every column and setting key the server takes passes.
    expect(parseFilter('status=completed dataset=cub r1=0.5 lr=0.001 tau=32').error).toBeUndefined()
  })

  it('offers every default column in the chooser', () => {
    const keys = RUNS_COLUMNS.map((c) => c.key)
    expect(DEFAULT_COLUMNS.every((k) => keys.includes(k))).toBe(true)
    expect(new Set(keys).size).toBe(keys.length)
    // Every column sorts on the server.
    for (const sort of keys) expect(runsSchemas.list.safeParse({ sort }).success, sort).toBe(true)
  })
})
