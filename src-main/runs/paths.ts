/** Where a run's files live inside the data folder. */
import { join } from 'node:path'
import type { AppContext } from '../app/context'
import { GALLERY_FILE } from '../trainer/protocol'
import { NotFoundError } from '../../src-preload/contract/errors'

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
  const row = ctx.db.prepare('SELECT dir FROM runs WHERE id = ?').get(runId) as
    { dir: string | null } | undefined
  if (!row) throw new NotFoundError(`no run with id ${runId}`)
  return join(row.dir ?? runDir(ctx, runId), GALLERY_FILE)
}
