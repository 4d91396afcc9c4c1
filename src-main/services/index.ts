import { apiSchemas, type ServiceName, type Services } from '../../src-preload/contract'
import type { AppContext } from '../app/context'
import { createDatasetsService } from './datasets'
import { createExperimentsService } from './experiments'
import { createRetrievalService } from './retrieval'
import { createRunsService } from './runs'
import { createSystemService, type Pickers } from './system'

/** Options that differ between the Electron shell, web mode and the CLI. */
export interface ServicesOptions {
  /** Native dialogs; only the Electron shell passes them. */
  pickers?: Pickers
}

/** Every service plus the shutdown of the ones that hold processes or memory. */
export type AppServices = Services & {
  /** Stops the active trainer and frees cached models; call before closing the context. */
  dispose(): Promise<void>
}

/** Thrown by every method of a service that is not part of this build yet. */
export class ServiceUnavailableError extends Error {
  readonly code = 'unavailable'
  constructor(service: string, method: string) {
    super(`${service}.${method} is not available yet (the ${service} service is not built)`)
    this.name = 'ServiceUnavailableError'
  }
}

/** A stand-in whose every method rejects with a clear "not available yet" error (for tests). */
export function unavailableService<S extends ServiceName>(service: S): Services[S] {
  const methods = Object.keys(apiSchemas[service])
  return Object.fromEntries(
    methods.map((m) => [m, () => Promise.reject(new ServiceUnavailableError(service, m))])
  ) as unknown as Services[S]
}

/** Builds every service over one app context; both transports and the CLI use this. */
export function createServices(ctx: AppContext, opts: ServicesOptions = {}): AppServices {
  const runs = createRunsService(ctx)
  const retrieval = createRetrievalService(ctx)
  return {
    system: createSystemService(ctx, { pickers: opts.pickers }),
    datasets: createDatasetsService(ctx),
    runs,
    retrieval,
    experiments: createExperimentsService(ctx, runs),
    async dispose() {
      retrieval.dispose()
      await runs.shutdown()
    }
  }
}
