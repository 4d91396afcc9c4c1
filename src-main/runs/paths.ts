/** Where a run's files live inside the data folder. */
import { join } from 'node:path'
import type { AppContext } from '../app/context'
import { GALLERY_FILE } from '../trainer/protocol'
import { RunsRepo } from './repo'

/** Gallery (test split) embeddings file inside a run folder; the trainer protocol names it. */
export { GALLERY_FILE }

/** A run's folder: <data>/runs/<id>. */
export function runDir(ctx: AppContext, runId: number): string {
  return join(ctx.paths.runs, String(runId))
}

/**
 * The run's gallery embeddings file (L2-normalised float32 rows, written with writeGallery;
 * row idx holds the embedding of run_gallery.image_id at that idx).
 */
export function galleryPath(ctx: AppContext, runId: number): string {
  const dir = new RunsRepo(ctx.db).resumeState(runId).dir // NotFoundError for an unknown id
  return join(dir ?? runDir(ctx, runId), GALLERY_FILE)
}
