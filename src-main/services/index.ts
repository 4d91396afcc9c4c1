import type { Services } from '../../src-preload/contract'
import type { AppContext } from '../app/context'
import { createAuditService } from './audit'
import { createDatasetsService } from './datasets'
import { createExperimentsService } from './experiments'
import { createExplainService } from './explain'
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

/** Builds every service over one app context; both transports and the CLI use this. */
export function createServices(ctx: AppContext, opts: ServicesOptions = {}): AppServices {
  const runs = createRunsService(ctx)
  const retrieval = createRetrievalService(ctx)
  const explain = createExplainService(ctx)
  return {
    system: createSystemService(ctx, { pickers: opts.pickers }),
    datasets: createDatasetsService(ctx),
    runs,
    retrieval,
    experiments: createExperimentsService(ctx, runs),
    explain,
    audit: createAuditService(ctx),
    async dispose() {
      retrieval.dispose()
      await explain.dispose()
      await runs.shutdown()
    }
  }
}
