import { describe, expect, it, vi } from 'vitest'
import type { Services } from '../../src-preload/contract'
import { stubService } from '../services/services.testutil'
import { toWireError, UnavailableError } from '../../src-preload/contract'
import { dispatch } from './index'

function services(): Services {
  return {
    system: stubService('system'),
    datasets: {
      ...stubService('datasets'),
      images: vi.fn(async (p: unknown) => p),
      rename: vi.fn(async () => {
        throw new Error('no dataset with id 9')
      })
    },
    runs: stubService('runs'),
    retrieval: stubService('retrieval')
  } as unknown as Services
}

describe('dispatch', () => {
  it('applies schema defaults before calling the service', async () => {
    const s = services()
    expect(await dispatch(s, 'datasets.images', { datasetId: 2 })).toEqual({
      result: { datasetId: 2, offset: 0, limit: 200 }
    })
  })

  it('refuses an invalid payload with every bad field named, without calling the service', async () => {
    const s = services()
    const reply = await dispatch(s, 'datasets.images', { datasetId: -1, limit: 0 })
    expect(reply).toMatchObject({ error: { code: 'invalid_payload' } })
    const err = (reply as { error: { message: string; issues: { path: string }[] } }).error
    expect(err.issues.map((i) => i.path).sort()).toEqual(['datasetId', 'limit'])
    expect(err.message).toMatch(/^datasets\.images: invalid payload: /)
    expect(s.datasets.images).not.toHaveBeenCalled()
  })

  it('answers not_found for unknown channels, including prototype names', async () => {
    for (const ch of ['nope', 'datasets.nope', 'datasets.__proto__', 'toString.call']) {
      expect(await dispatch(services(), ch, {})).toMatchObject({ error: { code: 'not_found' } })
    }
  })

  it('turns a service failure into a plain internal error', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {})
    expect(await dispatch(services(), 'datasets.rename', { id: 9, name: 'x' })).toEqual({
      error: { message: 'no dataset with id 9', code: 'internal' }
    })
  })
})

describe('toWireError', () => {
  it('keeps known codes and issues, and plain-ifies everything else', () => {
    expect(toWireError(new UnavailableError('runs.list is off')).code).toBe('unavailable')
    expect(toWireError('boom')).toEqual({ message: 'boom', code: 'internal' })
    const weird = Object.assign(new Error('x'), { code: 'EACCES' })
    expect(toWireError(weird).code).toBe('internal')
    expect(
      toWireError(
        Object.assign(new Error('bad'), {
          code: 'invalid_payload',
          issues: [{ path: 'a', message: 'm' }]
        })
      )
    ).toEqual({
      message: 'bad',
      code: 'invalid_payload',
      issues: [{ path: 'a', message: 'm' }]
    })
  })
})
