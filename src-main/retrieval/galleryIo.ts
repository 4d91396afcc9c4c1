/**
 * Where a run's files are and how its gallery embeddings are read: the runs module's layout
 * (runs/paths) and the eval module's gallery format, wrapped so the rest of this folder does
 * not depend on either directly.
 */
import { dirname } from 'node:path'
import { readGallery } from '../ml/eval/gallery'
import { galleryPath } from '../runs/paths'
import type { AppContext } from '../app/context'

/** The run's gallery embeddings file (runs.dir or runs/<id>, then gallery.bin). */
export function galleryFileOf(ctx: AppContext, runId: number): string {
  return galleryPath(ctx, runId)
}

/** The run's folder, where the embedding-map cache files go. */
export function runDirOf(ctx: AppContext, runId: number): string {
  return dirname(galleryPath(ctx, runId))
}

/** Reads a gallery file (n×d float32 rows; header, size and checksum verified). */
export function readGalleryFile(file: string): { data: Float32Array; n: number; d: number } {
  return readGallery(file)
}
