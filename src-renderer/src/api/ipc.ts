/**
 * The HistApi over Electron IPC: the preload's `window.api` answers each call with its reply
 * envelope, which is unwrapped here. A failure raises the same ApiError (code, message, field
 * issues) as the web client does from an HTTP error body.
 */
import type { CallReply, HistApi, PreloadApi } from '../../../src-preload/contract'
import { ApiError } from './errors'

/** The result of a reply envelope, or its error raised as an ApiError. */
export function unwrapReply(reply: CallReply | undefined): unknown {
  if (reply && 'error' in reply) throw ApiError.fromWire(reply.error)
  return reply?.result
}

/** Builds the HistApi over the preload's envelope API. */
export function createIpcApi(raw: PreloadApi): HistApi {
  const api: Record<string, unknown> = {}
  for (const [service, methods] of Object.entries(raw)) {
    if (typeof methods !== 'object' || methods === null) continue
    const bound: Record<string, (payload?: unknown) => Promise<unknown>> = {}
    for (const [method, fn] of Object.entries(methods as Record<string, unknown>)) {
      const call = fn as (payload?: unknown) => Promise<CallReply>
      bound[method] = async (payload?: unknown) => unwrapReply(await call(payload))
    }
    api[service] = bound
  }
  api.onEvent = raw.onEvent
  api.mediaUrl = raw.mediaUrl
  return api as unknown as HistApi
}
