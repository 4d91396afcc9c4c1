/** Web-mode downloads: `model/<runId>.zip` is a run's TF.js model export (runs/modelExport). */
import { NotFoundError } from '../../src-preload/contract/errors'
import type { AppContext } from '../app/context'
import type { DownloadSource } from './index'

/** The download source of a context. */
export function createDownloadSource(ctx: AppContext): DownloadSource {
  return async (path) => {
    const m = /^model\/(\d{1,12})\.zip$/.exec(path)
    if (!m) throw new NotFoundError(`no download at ${path}`)
    const runId = Number(m[1])
    // Loaded on demand: it pulls in TensorFlow.js.
    const { exportRunModelZip } = await import('../runs/modelExport')
    return {
      filename: `hist-run-${runId}-tfjs-model.zip`,
      contentType: 'application/zip',
      body: await exportRunModelZip(ctx, runId)
    }
  }
}
