/**
 * The HistApi over HTTP + WebSocket for web mode (`hist serve`), following
 * src-preload/contract/wire.ts. DOM-free apart from the injected fetch / WebSocket, so it is
 * unit-tested with fakes.
 */
import { apiSchemas, type AppEvent, type HistApi } from '../../../src-preload/contract'
import {
  API_PREFIX,
  EVENTS_PATH,
  MEDIA_PREFIX,
  TOKEN_HEADER,
  type WireError
} from '../../../src-preload/contract/wire'
import { ApiError } from './errors'

/** The small part of the WebSocket API the client uses (so tests can fake it). */
export interface SocketLike {
  onopen: ((ev: unknown) => void) | null
  onmessage: ((ev: { data: unknown }) => void) | null
  onclose: ((ev: unknown) => void) | null
  onerror: ((ev: unknown) => void) | null
  close(): void
}

/** Options of the web client; everything is injectable for tests. */
export interface WebApiOptions {
  /** Origin of the server, e.g. `http://127.0.0.1:5123`, or '' for same-origin relative URLs. */
  origin: string
  /** Origin of the event socket, e.g. `ws://127.0.0.1:5123` (default: derived from `origin`). */
  wsOrigin?: string
  /** The session token, or null to rely on the HttpOnly cookie alone. */
  token: string | null
  fetch?: typeof fetch
  /** Opens a WebSocket to the given URL. */
  openSocket?: (url: string) => SocketLike
  /** Delay before the first reconnect attempt, doubled up to `maxReconnectMs`. */
  reconnectMs?: number
  maxReconnectMs?: number
  /** Timer functions (injectable so tests can run reconnects without waiting). */
  setTimer?: (fn: () => void, ms: number) => unknown
  clearTimer?: (handle: unknown) => void
}

/** A HistApi plus the web-only controls of its event socket. */
export type WebApi = HistApi & {
  /** Closes the event socket and stops reconnecting. */
  close(): void
}

/** Builds a HistApi whose methods POST to `/api/<service>.<method>`. */
export function createWebApi(opts: WebApiOptions): WebApi {
  const doFetch = opts.fetch ?? globalThis.fetch.bind(globalThis)
  const call = async (channel: string, payload: unknown): Promise<unknown> => {
    const headers: Record<string, string> = { 'content-type': 'application/json' }
    if (opts.token) headers[TOKEN_HEADER] = opts.token
    let res: Response
    try {
      res = await doFetch(`${opts.origin}${API_PREFIX}${channel}`, {
        method: 'POST',
        headers,
        body: JSON.stringify(payload ?? {}),
        credentials: 'same-origin'
      })
    } catch {
      throw new ApiError(
        'Cannot reach the HIST Studio server. Is `hist serve` still running?',
        'network'
      )
    }
    const text = await res.text()
    let body: { result?: unknown; error?: WireError } = {}
    if (text) {
      try {
        body = JSON.parse(text)
      } catch {
        body = {}
      }
    }
    if (!res.ok || body.error) {
      const e = body.error
      if (e && typeof e.message === 'string') throw ApiError.fromWire(e, res.status)
      throw new ApiError(
        `The server answered ${res.status} ${res.statusText || ''}`.trim(),
        statusCode(res.status),
        [],
        res.status
      )
    }
    return body.result
  }

  const api: Record<string, unknown> = {}
  for (const [service, methods] of Object.entries(apiSchemas)) {
    const proxy: Record<string, (p?: unknown) => Promise<unknown>> = {}
    for (const method of Object.keys(methods)) {
      proxy[method] = (payload?: unknown) => call(`${service}.${method}`, payload)
    }
    api[service] = proxy
  }

  const events = createEventSocket(opts)
  api.onEvent = events.subscribe
  api.close = events.close
  api.mediaUrl = (kind: 'image' | 'thumb', imageId: number) =>
    `${opts.origin}${MEDIA_PREFIX}${kind}/${imageId}`
  return api as unknown as WebApi
}

function statusCode(status: number): WireError['code'] {
  if (status === 401 || status === 403) return 'unauthorized'
  if (status === 404) return 'not_found'
  if (status === 409) return 'conflict'
  if (status === 413) return 'too_large'
  if (status === 400) return 'invalid_payload'
  if (status === 503) return 'unavailable'
  return 'internal'
}

/**
 * One shared WebSocket for all listeners, opened on the first subscription and reopened with
 * exponential back-off when it drops. After a reconnect, listeners get synthetic
 * `datasets.changed` and `runs.changed` events so that stores refetch what they missed.
 */
function createEventSocket(opts: WebApiOptions): {
  subscribe: (l: (e: AppEvent) => void) => () => void
  close: () => void
} {
  const listeners = new Set<(e: AppEvent) => void>()
  const setTimer = opts.setTimer ?? ((fn, ms) => setTimeout(fn, ms))
  const clearTimer = opts.clearTimer ?? ((h) => clearTimeout(h as ReturnType<typeof setTimeout>))
  const base = opts.reconnectMs ?? 500
  const max = opts.maxReconnectMs ?? 10_000
  let socket: SocketLike | null = null
  let timer: unknown = null
  let delay = base
  let closed = false
  let everOpened = false

  const url = (): string => {
    const wsOrigin = opts.wsOrigin ?? opts.origin.replace(/^http/, 'ws')
    const q = opts.token ? `?token=${encodeURIComponent(opts.token)}` : ''
    return `${wsOrigin}${EVENTS_PATH}${q}`
  }
  const open = opts.openSocket ?? ((u: string) => new WebSocket(u) as unknown as SocketLike)

  const emit = (e: AppEvent): void => {
    for (const l of [...listeners]) {
      try {
        l(e)
      } catch (err) {
        console.error('event listener failed', err)
      }
    }
  }

  const connect = (): void => {
    if (closed || socket) return
    let s: SocketLike
    try {
      s = open(url())
    } catch {
      schedule()
      return
    }
    socket = s
    s.onopen = () => {
      delay = base
      if (everOpened) {
        emit({ type: 'datasets.changed' })
        emit({ type: 'runs.changed' })
      }
      everOpened = true
    }
    s.onmessage = (ev) => {
      if (typeof ev.data !== 'string') return
      let parsed: unknown
      try {
        parsed = JSON.parse(ev.data)
      } catch {
        return
      }
      if (parsed && typeof (parsed as { type?: unknown }).type === 'string')
        emit(parsed as AppEvent)
    }
    s.onerror = () => {
      /* onclose follows and schedules the reconnect */
    }
    s.onclose = () => {
      if (socket === s) socket = null
      schedule()
    }
  }

  const schedule = (): void => {
    if (closed || timer !== null || listeners.size === 0) return
    timer = setTimer(() => {
      timer = null
      connect()
    }, delay)
    delay = Math.min(delay * 2, max)
  }

  return {
    subscribe(listener) {
      listeners.add(listener)
      connect()
      return () => {
        listeners.delete(listener)
      }
    },
    close() {
      closed = true
      if (timer !== null) clearTimer(timer)
      timer = null
      const s = socket
      socket = null
      s?.close()
    }
  }
}
