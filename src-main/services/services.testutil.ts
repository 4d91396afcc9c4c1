/**
 * Test doubles of the services: `stubService('runs')` is a service whose every method rejects
 * with an UnavailableError naming the method, so a test overrides only the methods it uses.
 * `atEdge('runs', service)` is a real service called as the dispatch calls it.
 */
import {
  apiSchemas,
  UnavailableError,
  validatePayload,
  type ServiceClients,
  type ServiceName,
  type Services
} from '../../src-preload/contract'

/** A service whose every method rejects ("<service>.<method> is not stubbed in this test"). */
export function stubService<S extends ServiceName>(service: S): Services[S] {
  const methods = Object.keys(apiSchemas[service])
  return Object.fromEntries(
    methods.map((m) => [
      m,
      () => Promise.reject(new UnavailableError(`${service}.${m} is not stubbed in this test`))
    ])
  ) as unknown as Services[S]
}

/** A service whose contract methods take what a caller sends (schema input); other members as is. */
export type AtEdge<S extends ServiceName, T> = Omit<T, keyof ServiceClients[S]> & ServiceClients[S]

/**
 * `service` as the dispatch calls it: each contract method's payload goes through the contract's
 * `validatePayload` first (defaults applied, InvalidError with field issues when bad), since
 * services take the validated payload and never parse it themselves. Tests on the services
 * floor use it to call a real service with payloads as a client writes them; tests of what the
 * edge refuses live with the dispatch (src-main/dispatch/validation.test.ts).
 */
export function atEdge<S extends ServiceName, T extends Services[S]>(
  name: S,
  service: T
): AtEdge<S, T> {
  const edge = Object.create(service) as Record<string, unknown>
  const methods = service as unknown as Record<string, (p: unknown) => Promise<unknown>>
  for (const m of Object.keys(apiSchemas[name])) {
    edge[m] = async (p?: unknown) => methods[m](validatePayload(`${name}.${m}`, p))
  }
  return edge as AtEdge<S, T>
}
