/**
 * Binds the API contract to the services, independent of the transport: every call is
 * validated against its channel's schema before a service sees it, and every failure becomes
 * a plain `WireError`. The Electron shell (src-main/shell/ipc.ts) and web mode
 * (src-main/server) both call `dispatch`.
 */
import {
  channels,
  resolveChannel,
  validatePayload,
  type Services
} from '../../src-preload/contract'
import type { WireError } from '../../src-preload/contract/wire'

/** What one call returns over a transport: the result, or a plain error. */
export type CallResponse = { result?: unknown } | { error: WireError }

const CODES: readonly WireError['code'][] = [
  'invalid_payload',
  'unauthorized',
  'not_found',
  'conflict',
  'too_large',
  'internal',
  'unavailable'
]

/** HTTP status of each wire error code (web mode). */
export const STATUS_OF: Record<WireError['code'], number> = {
  invalid_payload: 400,
  unauthorized: 401,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  internal: 500,
  unavailable: 503
}

/** Turns anything thrown into a plain, cloneable WireError (keeping a known `code` and `issues`). */
export function toWireError(err: unknown): WireError {
  const e = err as { message?: unknown; code?: unknown; issues?: unknown }
  const message =
    err instanceof Error ? err.message : typeof e?.message === 'string' ? e.message : String(err)
  const code = CODES.includes(e?.code as WireError['code'])
    ? (e.code as WireError['code'])
    : 'internal'
  const out: WireError = { message, code }
  if (Array.isArray(e?.issues)) {
    out.issues = (e.issues as { path?: unknown; message?: unknown }[]).map((i) => ({
      path: String(i.path ?? ''),
      message: String(i.message ?? '')
    }))
  }
  return out
}

/**
 * Calls `<service>.<method>` with a validated payload. Never throws: an unknown channel, an
 * invalid payload (the service is not called) or a service failure come back as `{ error }`.
 */
export async function dispatch(
  services: Services,
  channel: string,
  payload: unknown
): Promise<CallResponse> {
  const target = resolveChannel(channel)
  if (!target) return { error: { message: `unknown channel "${channel}"`, code: 'not_found' } }
  let input: unknown
  try {
    input = validatePayload(channel, payload)
  } catch (err) {
    return { error: toWireError(err) }
  }
  try {
    const service = services[target.service] as unknown as Record<
      string,
      (p: unknown) => Promise<unknown>
    >
    const result = await service[target.method](input)
    return result === undefined ? {} : { result }
  } catch (err) {
    if (toWireError(err).code === 'internal') console.error(`${channel} failed:`, err)
    return { error: toWireError(err) }
  }
}

/** Every channel of the contract (re-exported for the transports' allow-lists). */
export const allChannels: readonly string[] = channels
