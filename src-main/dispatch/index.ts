/**
 * Binds the API contract to the services, independent of the transport: every call is
 * validated against its channel's schema before a service sees it, and every failure becomes
 * a plain `WireError`. The Electron shell (src-main/shell/ipc.ts) and web mode
 * (src-main/server) both call `dispatch`.
 */
import {
  fromWireError,
  resolveChannel,
  toWireError,
  validatePayload,
  type CallReply,
  type ServiceName,
  type Services
} from '../../src-preload/contract'

/** What one call returns over a transport: the result, or a plain error (the reply envelope). */
export type CallResponse = CallReply

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
    const error = toWireError(err)
    // Expected errors (not found, invalid, conflict…) are the caller's business: no stack trace.
    if (error.code === 'internal') console.error(`${channel} failed:`, err)
    return { error }
  }
}

/**
 * Calls one method of one service exactly as both transports do — payload validated against its
 * schema (defaults applied), errors as the typed errors of the contract — and returns its result.
 * The CLI uses it, so `hist` accepts and refuses the same payloads as the app.
 */
export async function invoke<S extends ServiceName, M extends keyof Services[S] & string>(
  name: S,
  service: Services[S],
  method: M,
  payload: unknown
): Promise<ResultOf<Services[S][M]>> {
  const reply = await dispatch(
    { [name]: service } as unknown as Services,
    `${name}.${method}`,
    payload
  )
  if ('error' in reply) throw fromWireError(reply.error)
  return reply.result as ResultOf<Services[S][M]>
}

type ResultOf<F> = F extends (...a: never[]) => Promise<infer R> ? R : never
