/**
 * Read-only SQL the retrieval service needs (runs, run_gallery, run_queries joined with images
 * and classes), behind prepared statements. The runs repository owns every write.
 */
import type { ImageRef, Metrics } from '../../src-preload/contract/common'
import type { Db } from '../db'
import { NotFoundError } from '../../src-preload/contract/errors'

/** The columns of a run the retrieval service uses. */
export interface RunInfo {
  id: number
  name: string
  status: string
  datasetId: number | null
  datasetName: string
  /** The parsed TrainConfig snapshot (kept as plain JSON: old runs may miss newer keys). */
  config: Record<string, unknown>
  dir: string | null
  finishedAt: string | null
  bestEpoch: number | null
  bestMetrics: Metrics | null
  testMetrics: Metrics | null
  baselineMetrics: Metrics | null
  rawMetrics: Metrics | null
  testFrom: 'final' | 'best-checkpoint' | null
}

/** One per-query result of a run's final test evaluation. */
export interface QueryRecord {
  imageId: number
  ap: number
  correctAt1: boolean
}

interface RunRow {
  id: number
  name: string
  status: string
  dataset_id: number | null
  dataset_name: string
  config: string
  dir: string | null
  finished_at: string | null
  best_epoch: number | null
  best_metrics: string | null
  test_metrics: string | null
  baseline_metrics: string | null
  raw_metrics: string | null
  test_from: string | null
}

interface RefRow {
  id: number | null
  dataset_id: number
  class_id: number
  class_name: string
  rel_path: string
}

const parseJson = <T>(s: string | null): T | null => {
  if (s === null) return null
  try {
    return JSON.parse(s) as T
  } catch {
    return null
  }
}

const toRef = (r: RefRow): ImageRef => ({
  id: r.id as number,
  datasetId: r.dataset_id,
  classId: r.class_id,
  className: r.class_name,
  relPath: r.rel_path
})

/** Escapes LIKE wildcards so that a search for "a_b" or "50%" matches literally. */
export function likePattern(search: string): string {
  return `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`
}

const REF_COLUMNS = 'i.id AS id, i.dataset_id, i.class_id, c.name AS class_name, i.rel_path'

/** Prepared statements over runs, run_gallery, run_queries, images and classes. */
export class RetrievalRepo {
  private s

  constructor(db: Db) {
    this.s = {
      run: db.prepare(
        `SELECT id, name, status, dataset_id, dataset_name, config, dir, finished_at, best_epoch,
         best_metrics, test_metrics, baseline_metrics, raw_metrics, test_from FROM runs WHERE id = ?`
      ),
      galleryCount: db.prepare('SELECT COUNT(*) AS n FROM run_gallery WHERE run_id = ?'),
      // LEFT JOIN so that an image removed since the evaluation shows up as a NULL id.
      galleryRefs: db.prepare(
        `SELECT g.idx AS idx, g.image_id AS image_id, ${REF_COLUMNS}
         FROM run_gallery g
         LEFT JOIN images i ON i.id = g.image_id
         LEFT JOIN classes c ON c.id = i.class_id
         WHERE g.run_id = ? ORDER BY g.idx`
      ),
      datasetRefs: db.prepare(
        `SELECT ${REF_COLUMNS}, c.ordinal AS ordinal FROM images i
         JOIN classes c ON c.id = i.class_id WHERE i.dataset_id = ?`
      ),
      imageCount: db.prepare('SELECT COUNT(*) AS n FROM images WHERE dataset_id = ?'),
      classOrdinals: db.prepare('SELECT id, ordinal FROM classes WHERE dataset_id = ?'),
      queries: db.prepare(
        'SELECT image_id, ap, correct_at1 FROM run_queries WHERE run_id = ? ORDER BY image_id'
      ),
      queryOne: db.prepare(
        'SELECT ap, correct_at1 FROM run_queries WHERE run_id = ? AND image_id = ?'
      ),
      queryCount: db.prepare('SELECT COUNT(*) AS n FROM run_queries WHERE run_id = ?'),
      testCount: db.prepare(
        `SELECT COUNT(*) AS n FROM run_gallery g
         JOIN images i ON i.id = g.image_id JOIN classes c ON c.id = i.class_id
         WHERE g.run_id = @runId AND (@search IS NULL OR c.name LIKE @search ESCAPE '\\'
           OR i.rel_path LIKE @search ESCAPE '\\')`
      ),
      testPage: db.prepare(
        `SELECT ${REF_COLUMNS} FROM run_gallery g
         JOIN images i ON i.id = g.image_id JOIN classes c ON c.id = i.class_id
         WHERE g.run_id = @runId AND (@search IS NULL OR c.name LIKE @search ESCAPE '\\'
           OR i.rel_path LIKE @search ESCAPE '\\')
         ORDER BY c.ordinal, c.name, i.rel_path, i.id LIMIT @limit OFFSET @offset`
      )
    }
  }

  /** The run, or a not-found error naming the id. */
  run(id: number): RunInfo {
    const r = this.s.run.get(id) as RunRow | undefined
    if (!r) throw new NotFoundError(`there is no run with id ${id}`)
    return {
      id: r.id,
      name: r.name,
      status: r.status,
      datasetId: r.dataset_id,
      datasetName: r.dataset_name,
      config: parseJson<Record<string, unknown>>(r.config) ?? {},
      dir: r.dir,
      finishedAt: r.finished_at,
      bestEpoch: r.best_epoch,
      bestMetrics: parseJson<Metrics>(r.best_metrics),
      testMetrics: parseJson<Metrics>(r.test_metrics),
      baselineMetrics: parseJson<Metrics>(r.baseline_metrics),
      rawMetrics: parseJson<Metrics>(r.raw_metrics),
      testFrom:
        r.test_metrics === null
          ? null
          : r.test_from === 'best-checkpoint'
            ? 'best-checkpoint'
            : 'final'
    }
  }

  /** Number of gallery rows recorded for the run (0 before its test evaluation). */
  galleryCount(runId: number): number {
    return (this.s.galleryCount.get(runId) as { n: number }).n
  }

  /**
   * The run's gallery in row order: image id per row and its ImageRef (null when the image was
   * deleted since the evaluation).
   */
  galleryRefs(runId: number): { imageIds: number[]; refs: (ImageRef | null)[] } {
    const rows = this.s.galleryRefs.all(runId) as (RefRow & { idx: number; image_id: number })[]
    const imageIds: number[] = []
    const refs: (ImageRef | null)[] = []
    rows.forEach((r, k) => {
      if (r.idx !== k)
        throw new Error(
          `run ${runId}: gallery rows are not numbered 0..n-1 (row ${k} has idx ${r.idx})`
        )
      imageIds.push(r.image_id)
      refs.push(r.id === null ? null : toRef(r))
    })
    return { imageIds, refs }
  }

  /** Every image of a dataset as an ImageRef, with its class's ordinal, by image id. */
  datasetRefs(datasetId: number): Map<number, { ref: ImageRef; ordinal: number }> {
    const rows = this.s.datasetRefs.all(datasetId) as (RefRow & { ordinal: number })[]
    return new Map(rows.map((r) => [r.id as number, { ref: toRef(r), ordinal: r.ordinal }]))
  }

  /** Number of images of a dataset. */
  imageCount(datasetId: number): number {
    return (this.s.imageCount.get(datasetId) as { n: number }).n
  }

  /** The ordinal (class order) of each class of a dataset, by class id. */
  classOrdinals(datasetId: number): Map<number, number> {
    const rows = this.s.classOrdinals.all(datasetId) as { id: number; ordinal: number }[]
    return new Map(rows.map((r) => [r.id, r.ordinal]))
  }

  /** Every per-query result of the run's final evaluation, by image id. */
  queries(runId: number): QueryRecord[] {
    return (
      this.s.queries.all(runId) as { image_id: number; ap: number; correct_at1: number }[]
    ).map((q) => ({
      imageId: q.image_id,
      ap: q.ap,
      correctAt1: q.correct_at1 === 1
    }))
  }

  /** The per-query result of one image, or null when it was not recorded. */
  queryOf(runId: number, imageId: number): QueryRecord | null {
    const q = this.s.queryOne.get(runId, imageId) as { ap: number; correct_at1: number } | undefined
    return q ? { imageId, ap: q.ap, correctAt1: q.correct_at1 === 1 } : null
  }

  /** Number of per-query rows of the run. */
  queryCount(runId: number): number {
    return (this.s.queryCount.get(runId) as { n: number }).n
  }

  /** A page of the run's gallery images, optionally filtered by class name or file path. */
  testImages(
    runId: number,
    search: string | undefined,
    offset: number,
    limit: number
  ): { total: number; images: ImageRef[] } {
    const pattern = search && search.trim() ? likePattern(search.trim()) : null
    const total = (this.s.testCount.get({ runId, search: pattern }) as { n: number }).n
    const images = (this.s.testPage.all({ runId, search: pattern, offset, limit }) as RefRow[]).map(
      toRef
    )
    return { total, images }
  }
}
