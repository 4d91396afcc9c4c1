import { describe, expect, it, vi } from 'vitest'
import type { AppEvent } from '../../../src-preload/contract'
import { ApiError } from './errors'
import { createWebApi, type SocketLike } from './web'

function jsonResponse(status: number, body: unknown): Response {
  return new Response(body === undefined ? '' : JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json' }
  })
}

class FakeSocket implements SocketLike {
  onopen: ((ev: unknown) => void) | null = null
  onmessage: ((ev: { data: unknown }) => void) | null = null
  onclose: ((ev: unknown) => void) | null = null
  onerror: ((ev: unknown) => void) | null = null
  closed = false
  constructor(readonly url: string) {}
  close(): void {
    this.closed = true
  }
}

describe('web API client', () => {
  it('posts the payload to /api/<service>.<method> with the token header and returns result', async () => {
    const fetch = vi.fn(async () => jsonResponse(200, { result: [{ id: 1 }] }))
    const api = createWebApi({
      origin: 'http://h',
      token: 'tok',
      fetch,
      openSocket: () => new FakeSocket('')
    })
    const out = await api.datasets.images({ datasetId: 3, search: 'x' })
    expect(out).toEqual([{ id: 1 }])
    expect(fetch).toHaveBeenCalledTimes(1)
    const [url, init] = fetch.mock.calls[0] as unknown as [string, RequestInit]
    expect(url).toBe('http://h/api/datasets.images')
    expect(init.method).toBe('POST')
    expect((init.headers as Record<string, string>)['x-hist-token']).toBe('tok')
    expect(JSON.parse(init.body as string)).toEqual({ datasetId: 3, search: 'x' })
  })

  it('sends {} for methods without payload and resolves undefined for void results', async () => {
    const fetch = vi.fn(async () => jsonResponse(200, {}))
    const api = createWebApi({ origin: '', token: null, fetch })
    await expect(api.runs.pause({ id: 2 })).resolves.toBeUndefined()
    await api.system.status()
    const init = (fetch.mock.calls[1] as unknown as [string, RequestInit])[1]
    expect(init.body).toBe('{}')
    expect((init.headers as Record<string, string>)['x-hist-token']).toBeUndefined()
  })

  it('builds a proxy for every method of the contract', () => {
    const api = createWebApi({ origin: '', token: null, fetch: vi.fn() })
    for (const m of ['list', 'get', 'startImport', 'ensureDemo', 'setSplit'])
      expect(typeof (api.datasets as unknown as Record<string, unknown>)[m]).toBe('function')
    for (const m of ['query', 'queryExternal', 'embeddingMap', 'flipped'])
      expect(typeof (api.retrieval as unknown as Record<string, unknown>)[m]).toBe('function')
  })

  it('throws ApiError with code and field issues from an error body', async () => {
    const fetch = vi.fn(async () =>
      jsonResponse(400, {
        error: {
          message: 'runs.start: invalid payload: epochs: Too small',
          code: 'invalid_payload',
          issues: [{ path: 'epochs', message: 'Too small' }]
        }
      })
    )
    const api = createWebApi({ origin: '', token: 't', fetch })
    const err = await api.runs.start({ datasetId: 1, epochs: 0 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect((err as ApiError).code).toBe('invalid_payload')
    expect((err as ApiError).status).toBe(400)
    expect((err as ApiError).issues).toEqual([{ path: 'epochs', message: 'Too small' }])
  })

  it('maps a non-JSON failure to a code from its status and a network failure to "network"', async () => {
    const api401 = createWebApi({
      origin: '',
      token: 't',
      fetch: vi.fn(async () => new Response('nope', { status: 401 }))
    })
    await expect(api401.system.status()).rejects.toMatchObject({ code: 'unauthorized' })
    const down = createWebApi({
      origin: '',
      token: 't',
      fetch: vi.fn(async () => {
        throw new TypeError('Failed to fetch')
      })
    })
    await expect(down.system.status()).rejects.toMatchObject({ code: 'network' })
  })

  it('builds media URLs under /media/<kind>/<id>', () => {
    const api = createWebApi({ origin: '', token: null, fetch: vi.fn() })
    expect(api.mediaUrl('thumb', 12)).toBe('/media/thumb/12')
    expect(api.mediaUrl('image', 5)).toBe('/media/image/5')
  })
})

describe('web API events', () => {
  function setup() {
    const sockets: FakeSocket[] = []
    const timers: (() => void)[] = []
    const api = createWebApi({
      origin: 'http://127.0.0.1:9',
      token: 'a b',
      fetch: vi.fn(),
      openSocket: (url) => {
        const s = new FakeSocket(url)
        sockets.push(s)
        return s
      },
      setTimer: (fn) => {
        timers.push(fn)
        return timers.length
      },
      clearTimer: () => {}
    })
    return { api, sockets, timers }
  }

  it('opens one socket on first subscribe with the token in the query and delivers events', () => {
    const { api, sockets } = setup()
    const a: AppEvent[] = []
    const b: AppEvent[] = []
    api.onEvent((e) => a.push(e))
    const unsub = api.onEvent((e) => b.push(e))
    expect(sockets).toHaveLength(1)
    expect(sockets[0].url).toBe('ws://127.0.0.1:9/events?token=a%20b')
    sockets[0].onopen?.({})
    sockets[0].onmessage?.({ data: JSON.stringify({ type: 'runs.changed' }) })
    unsub()
    sockets[0].onmessage?.({ data: JSON.stringify({ type: 'datasets.changed' }) })
    sockets[0].onmessage?.({ data: 'not json' })
    expect(a.map((e) => e.type)).toEqual(['runs.changed', 'datasets.changed'])
    expect(b.map((e) => e.type)).toEqual(['runs.changed'])
  })

  it('reconnects after the socket drops and asks stores to refetch', () => {
    const { api, sockets, timers } = setup()
    const got: string[] = []
    api.onEvent((e) => got.push(e.type))
    sockets[0].onopen?.({})
    sockets[0].onclose?.({})
    expect(timers).toHaveLength(1)
    timers[0]()
    expect(sockets).toHaveLength(2)
    sockets[1].onopen?.({})
    expect(got).toEqual(['datasets.changed', 'runs.changed'])
  })

  it('stops reconnecting after close()', () => {
    const { api, sockets, timers } = setup()
    api.onEvent(() => {})
    api.close()
    expect(sockets[0].closed).toBe(true)
    sockets[0].onclose?.({})
    expect(timers).toHaveLength(0)
  })
})

describe('errorMessage', () => {
  it('shows backend errors as sentences without the Electron channel prefix', async () => {
    const { errorMessage } = await import('./errors')
    expect(errorMessage(new ApiError('no such file or folder: /x', 'invalid_payload'))).toBe(
      'No such file or folder: /x'
    )
    expect(
      errorMessage(
        new Error("Error invoking remote method 'runs.start': Error: the dataset is gone")
      )
    ).toBe('The dataset is gone')
    expect(errorMessage(new ApiError('x', 'unauthorized'))).toMatch(/session has expired/)
  })
})
