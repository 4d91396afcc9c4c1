import type { BackendReport, SystemService, SystemStatus } from '../../src-preload/contract'
import { describeBackend, initBackend } from '../ml/backend'
import type { AppContext } from '../app/context'

/** Native pickers; only the Electron shell has them (web mode and the CLI answer null). */
export interface Pickers {
  /** Asks the user for a folder; null when cancelled. */
  pickFolder(): Promise<string | null>
  /** Asks the user for one image file; null when cancelled. */
  pickImage(): Promise<string | null>
}

/** Options of the system service. */
export interface SystemServiceOptions {
  /** Native dialogs (Electron only). */
  pickers?: Pickers
  /** The backend report so far; defaults to the report of `startBackendProbe`. */
  backend?: () => BackendReport | null
}

const probes = new WeakMap<
  AppContext,
  { report: BackendReport | null; done: Promise<BackendReport | null> }
>()

/**
 * Probes the TensorFlow.js backends once per context (cheap: a few hundred ms for wasm) and
 * emits a `backend` event with the report. A failure is logged, not thrown: the app still
 * works for browsing datasets without a backend.
 */
export function startBackendProbe(
  ctx: AppContext,
  probe: () => Promise<BackendReport> = () => initBackend()
): Promise<BackendReport | null> {
  const existing = probes.get(ctx)
  if (existing) return existing.done
  const entry: { report: BackendReport | null; done: Promise<BackendReport | null> } = {
    report: null,
    done: Promise.resolve(null)
  }
  entry.done = probe().then(
    (report) => {
      entry.report = report
      ctx.events.emit({ type: 'backend', backend: report })
      return report
    },
    (err: unknown) => {
      console.error('backend probe failed:', err instanceof Error ? err.message : err)
      return null
    }
  )
  probes.set(ctx, entry)
  return entry.done
}

/** The last backend report of this context, or null while the probe runs (or never ran). */
export function probedBackend(ctx: AppContext): BackendReport | null {
  return probes.get(ctx)?.report ?? null
}

/** One line per backend candidate, for logs (e.g. "wasm: in use"). */
export function backendLines(report: BackendReport | null): string[] {
  return report ? describeBackend(report) : ['backend: probing…']
}

/** App status and native pickers. */
export function createSystemService(
  ctx: AppContext,
  opts: SystemServiceOptions = {}
): SystemService {
  const backend = opts.backend ?? (() => probedBackend(ctx))
  return {
    async status(): Promise<SystemStatus> {
      return {
        appVersion: ctx.appVersion,
        mode: ctx.mode === 'electron' ? 'electron' : 'web',
        dataDir: ctx.paths.root,
        backend: backend(),
        fastPaths: backend()?.fastPaths ?? null
      }
    },
    async pickFolder() {
      return opts.pickers ? opts.pickers.pickFolder() : null
    },
    async pickImage() {
      return opts.pickers ? opts.pickers.pickImage() : null
    }
  }
}
