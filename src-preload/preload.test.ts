/** The preload against a test double of electron: named functions only, errors rethrown. */
import { beforeAll, describe, expect, it, vi } from 'vitest'
import { apiSchemas, EVENT_CHANNEL, type HistApi } from './contract'

const fake = vi.hoisted(() => ({
  exposed: new Map<string, unknown>(),
  invoked: [] as { channel: string; payload: unknown }[],
  reply: { result: 'ok' } as unknown,
  listeners: new Map<string, Set<(...a: unknown[]) => void>>()
}))

vi.mock('electron', () => ({
  contextBridge: {
    exposeInMainWorld: (key: string, value: unknown) => fake.exposed.set(key, value)
  },
  ipcRenderer: {
    invoke: async (channel: string, payload: unknown) => {
      fake.invoked.push({ channel, payload })
      return fake.reply
    },
    on: (ch: string, l: (...a: unknown[]) => void) => {
      if (!fake.listeners.has(ch)) fake.listeners.set(ch, new Set())
      fake.listeners.get(ch)!.add(l)
    },
    removeListener: (ch: string, l: (...a: unknown[]) => void) => fake.listeners.get(ch)?.delete(l)
  }
}))

let api: HistApi

beforeAll(async () => {
  await import('./index')
  api = fake.exposed.get('api') as HistApi
})

describe('preload', () => {
  it('exposes only `api`, with one function per contract method plus onEvent and mediaUrl', () => {
    expect([...fake.exposed.keys()]).toEqual(['api'])
    const top = Object.keys(api).sort()
    expect(top).toEqual([...Object.keys(apiSchemas), 'mediaUrl', 'onEvent'].sort())
    for (const [service, methods] of Object.entries(apiSchemas)) {
      const exposed = (api as unknown as Record<string, Record<string, unknown>>)[service]
      expect(Object.keys(exposed).sort()).toEqual(Object.keys(methods).sort())
      for (const fn of Object.values(exposed)) expect(typeof fn).toBe('function')
    }
    const json = JSON.stringify(Object.keys(api))
    expect(json).not.toMatch(/ipcRenderer|invoke|send/)
  })

  it('calls the matching channel and unwraps the result', async () => {
    fake.reply = { result: { id: 7 } }
    expect(await api.datasets.get({ id: 7 })).toEqual({ id: 7 })
    expect(fake.invoked.at(-1)).toEqual({ channel: 'datasets.get', payload: { id: 7 } })
    fake.reply = {}
    expect(await api.datasets.remove({ id: 7 })).toBeUndefined()
  })

  it('rethrows a backend error as an Error with its message', async () => {
    fake.reply = {
      error: { message: 'runs.start: invalid payload: epochs: Too small', code: 'invalid_payload' }
    }
    await expect(api.runs.start({ datasetId: 1, epochs: 0 })).rejects.toThrow('epochs: Too small')
  })

  it('delivers events and unsubscribes', () => {
    const got: unknown[] = []
    const off = api.onEvent((e) => got.push(e))
    const emit = (e: unknown): void => fake.listeners.get(EVENT_CHANNEL)?.forEach((l) => l({}, e))
    emit({ type: 'runs.changed' })
    off()
    emit({ type: 'runs.changed' })
    expect(got).toEqual([{ type: 'runs.changed' }])
  })

  it('builds hist-media URLs and refuses bad ids', () => {
    expect(api.mediaUrl('image', 12)).toBe('hist-media://image/12')
    expect(api.mediaUrl('thumb', 3)).toBe('hist-media://thumb/3')
    expect(() => api.mediaUrl('image', 0)).toThrow()
    expect(() => api.mediaUrl('file' as 'image', 1)).toThrow()
  })
})
