/**
 * Test doubles of the services: `stubService('runs')` is a service whose every method rejects
 * with an UnavailableError naming the method, so a test overrides only the methods it uses.
 */
import {
  apiSchemas,
  UnavailableError,
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
