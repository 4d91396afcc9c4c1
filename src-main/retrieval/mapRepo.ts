/**
 * Read-only SQL of the embedding map beyond the test gallery: the file paths of every image of a
 * dataset (the whole-dataset map has training images, which are in no run table).
 */
import type { Db } from '../db'

/** Prepared statements over images for the embedding map. */
export class EmbeddingMapRepo {
  private s

  constructor(db: Db) {
    this.s = {
      paths: db.prepare('SELECT id, rel_path FROM images WHERE dataset_id = ?')
    }
  }

  /** Image id → path inside the dataset, for every image of the dataset. */
  pathsOf(datasetId: number): Map<number, string> {
    const rows = this.s.paths.all(datasetId) as { id: number; rel_path: string }[]
    return new Map(rows.map((r) => [r.id, r.rel_path]))
  }
}
