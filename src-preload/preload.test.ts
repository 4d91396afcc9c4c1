/** The preload against a test double of electron: named functions only, reply envelopes passed through. */
import { beforeAll, describe, expect, it, vi } from 'vitest'
import { apiSchemas, EVENT_CHANNEL, type HistApi, type PreloadApi } from './contract'

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

let api: PreloadApi

beforeAll(async () => {
  await import('./index')
  api = fake.exposed.get('api') as PreloadApi
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

  it('calls the matching channel and passes its reply envelope through', async () => {
    fake.reply = { result: { id: 7 } }
    expect(await api.datasets.get({ id: 7 })).toEqual({ result: { id: 7 } })
    expect(fake.invoked.at(-1)).toEqual({ channel: 'datasets.get', payload: { id: 7 } })
    fake.reply = {}
    expect(await api.datasets.remove({ id: 7 })).toEqual({})
  })

  it('passes a backend error through with its code and field issues (not a bare Error)', async () => {
    const error = {
      message: 'runs.start: invalid payload: epochs: Too small',
      code: 'invalid_payload',
      issues: [{ path: 'epochs', message: 'Too small' }]
    }
    fake.reply = { error }
    expect(await api.runs.start({ datasetId: 1, epochs: 0 })).toEqual({ error })
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

/**
 * The renderer's two clients, loaded by path: they belong to the web TypeScript project, so this
 * node-side test types only what it uses.
 */
interface RendererApi {
  createIpcApi(raw: PreloadApi): HistApi
  createWebApi(o: { origin: string; token: string; fetch: () => Promise<Response> }): HistApi
  ApiError: new (...a: never[]) => Error & { status: number }
}
async function rendererApi(): Promise<RendererApi> {
  const dir = new URL('../src-renderer/src/api/', import.meta.url).href
  const [ipc, web, errors] = await Promise.all(
    ['ipc.ts', 'web.ts', 'errors.ts'].map((f) => import(/* @vite-ignore */ dir + f))
  )
  return { ...ipc, ...web, ...errors } as RendererApi
}

describe('the same typed error over both transports', () => {
  let renderer: RendererApi
  beforeAll(async () => {
    renderer = await rendererApi()
  }, 60_000)
  const error = {
    message: 'runs.start: invalid payload: batchSize: must be a multiple of the images per class',
    code: 'invalid_payload' as const,
    issues: [{ path: 'batchSize', message: 'must be a multiple of the images per class' }]
  }

  async function caught(p: Promise<unknown>): Promise<unknown> {
    try {
      await p
    } catch (err) {
      return err
    }
    throw new Error('expected the call to fail')
  }

  it('raises an ApiError with the code and field issues from the preload and from HTTP', async () => {
    const { createIpcApi, createWebApi, ApiError } = renderer
    fake.reply = { error }
    const overIpc = await caught(createIpcApi(api).runs.start({ datasetId: 1 }))
    const fetch = async (): Promise<Response> =>
      new Response(JSON.stringify({ error }), {
        status: 400,
        headers: { 'content-type': 'application/json' }
      })
    const overHttp = await caught(
      createWebApi({ origin: 'http://h', token: 't', fetch }).runs.start({ datasetId: 1 })
    )
    for (const err of [overIpc, overHttp]) {
      // The same class from both clients (compared by name: this test loads the module by path).
      expect((err as Error).name).toBe(ApiError.name)
      expect(err).toMatchObject({ code: error.code, message: error.message, issues: error.issues })
    }
    expect((overIpc as { status: number }).status).toBe(0)
    expect((overHttp as { status: number }).status).toBe(400)
  })

  it('unwraps a result the same way', async () => {
    const { createIpcApi } = renderer
    fake.reply = { result: { id: 3 } }
    expect(await createIpcApi(api).datasets.get({ id: 3 })).toEqual({ id: 3 })
  })
})
