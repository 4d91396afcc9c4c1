/**
 * The datasets repository: every SQL statement on datasets, classes, images and problems,
 * prepared once per connection. Services and the importer go through this module only.
 */
import type { Statement } from 'better-sqlite3'
import type { DatasetProblem, ProblemKind } from '../../src-preload/contract'
import type { Db } from '../db'
import type { FormatName, ImageRole, SplitSide } from './types'

/** A datasets row. */
export interface DatasetRow {
  id: number
  name: string
  root: string
  format: FormatName
  built_in: number
  split_spec: string
  created_at: string
  updated_at: string
  source_rel: string | null
}

/** A classes row with its image count. */
export interface ClassRow {
  id: number
  name: string
  grp: string | null
  ordinal: number
  preset_split: SplitSide | null
  split: SplitSide | null
  image_count: number
}

/** An images row. */
export interface ImageRow {
  id: number
  class_id: number
  rel_path: string
  size: number
  mtime_ms: number
  sha1: string
  width: number | null
  height: number | null
  channels: number | null
  role: ImageRole | null
}

/** New image values (insert or update). */
export interface ImageValues {
  classId: number
  relPath: string
  size: number
  mtimeMs: number
  sha1: string
  width: number | null
  height: number | null
  channels: number | null
  role: ImageRole | null
}

/** Counts shown in a dataset summary. */
export interface SummaryCounts {
  classes: number
  images: number
  problems: number
  splits: { name: string; classes: number; images: number }[]
}

/** Prepared statements over one connection. */
export class DatasetsRepo {
  private s: Record<string, Statement>
  private dynamic = new Map<string, Statement>()

  constructor(readonly db: Db) {
    const p = (sql: string): Statement => db.prepare(sql)
    this.s = {
      insertDataset: p(
        `INSERT INTO datasets (name, root, format, built_in, split_spec, source_rel)
         VALUES (@name, @root, @format, @builtIn, @splitSpec, @sourceRel)`
      ),
      getDataset: p('SELECT * FROM datasets WHERE id = ?'),
      listDatasets: p('SELECT * FROM datasets ORDER BY id'),
      findDataset: p(
        `SELECT * FROM datasets WHERE root = ? AND format = ? AND coalesce(source_rel, '') = ?
         ORDER BY id LIMIT 1`
      ),
      findBuiltIn: p('SELECT * FROM datasets WHERE built_in = 1 ORDER BY id LIMIT 1'),
      rename: p(
        `UPDATE datasets SET name = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE id = ?`
      ),
      setRoot: p(
        `UPDATE datasets SET root = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE id = ?`
      ),
      setSplitSpec: p(
        `UPDATE datasets SET split_spec = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE id = ?`
      ),
      touch: p(
        `UPDATE datasets SET updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE id = ?`
      ),
      deleteDataset: p('DELETE FROM datasets WHERE id = ?'),
      counts: p(
        `SELECT (SELECT count(*) FROM classes WHERE dataset_id = @id) AS classes,
                (SELECT count(*) FROM images WHERE dataset_id = @id) AS images,
                (SELECT count(*) FROM problems WHERE dataset_id = @id) AS problems`
      ),
      storedCounts: p('SELECT counts_json FROM datasets WHERE id = ?'),
      storeCounts: p('UPDATE datasets SET counts_json = ? WHERE id = ?'),
      splitCounts: p(
        `SELECT c.split AS name, count(DISTINCT c.id) AS classes, count(i.id) AS images
         FROM classes c JOIN images i ON i.class_id = c.id
         WHERE c.dataset_id = ? AND c.split IS NOT NULL GROUP BY c.split`
      ),
      roleCounts: p(
        `SELECT r.name AS name, count(DISTINCT i.class_id) AS classes, count(*) AS images
         FROM images i JOIN classes c ON c.id = i.class_id
         JOIN (SELECT 'query' AS name UNION ALL SELECT 'gallery') r
           ON i.role = r.name OR i.role = 'both'
         WHERE i.dataset_id = ? AND c.split = 'test' GROUP BY r.name`
      ),
      classes: p(
        `SELECT c.id, c.name, c.grp, c.ordinal, c.preset_split, c.split,
                (SELECT count(*) FROM images i WHERE i.class_id = c.id) AS image_count
         FROM classes c WHERE c.dataset_id = ? ORDER BY c.ordinal, c.name`
      ),
      insertClass: p(
        `INSERT INTO classes (dataset_id, name, grp, ordinal, preset_split, split)
         VALUES (@datasetId, @name, @group, @ordinal, @presetSplit, @split)`
      ),
      updateClass: p(
        'UPDATE classes SET grp = @group, ordinal = @ordinal, preset_split = @presetSplit WHERE id = @id'
      ),
      deleteClass: p('DELETE FROM classes WHERE id = ?'),
      setClassSplit: p('UPDATE classes SET split = ? WHERE id = ?'),
      groups: p(
        'SELECT DISTINCT grp FROM classes WHERE dataset_id = ? AND grp IS NOT NULL ORDER BY grp'
      ),
      images: p('SELECT * FROM images WHERE dataset_id = ? ORDER BY id'),
      image: p(
        `SELECT i.*, d.root AS root, d.id AS dataset_id FROM images i JOIN datasets d ON d.id = i.dataset_id
         WHERE i.id = ?`
      ),
      imageByPath: p('SELECT * FROM images WHERE dataset_id = ? AND rel_path = ?'),
      insertImage: p(
        `INSERT INTO images (dataset_id, class_id, rel_path, size, mtime_ms, sha1, width, height, channels, role)
         VALUES (@datasetId, @classId, @relPath, @size, @mtimeMs, @sha1, @width, @height, @channels, @role)`
      ),
      updateImage: p(
        `UPDATE images SET class_id = @classId, size = @size, mtime_ms = @mtimeMs, sha1 = @sha1,
           width = @width, height = @height, channels = @channels, role = @role WHERE id = @id`
      ),
      deleteImage: p('DELETE FROM images WHERE id = ?'),
      deleteProblems: p('DELETE FROM problems WHERE dataset_id = ?'),
      insertProblem: p(
        `INSERT INTO problems (dataset_id, kind, rel_path, message, excluded)
         VALUES (@datasetId, @kind, @relPath, @message, @excluded)`
      ),
      problems: p(
        'SELECT kind, rel_path, message, excluded FROM problems WHERE dataset_id = ? ORDER BY id'
      )
    }
  }

  /** Runs `fn` in one immediate transaction. */
  tx<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate()
  }

  /** Inserts a dataset row and returns its id. */
  insertDataset(v: {
    name: string
    root: string
    format: FormatName
    builtIn: boolean
    splitSpec: string
    sourceRel: string | null
  }): number {
    return Number(this.s.insertDataset.run({ ...v, builtIn: v.builtIn ? 1 : 0 }).lastInsertRowid)
  }

  /** One dataset row, or undefined. */
  getDataset(id: number): DatasetRow | undefined {
    return this.s.getDataset.get(id) as DatasetRow | undefined
  }

  /** Every dataset row in id order. */
  listDatasets(): DatasetRow[] {
    return this.s.listDatasets.all() as DatasetRow[]
  }

  /** The dataset imported from this root, format and list file, if any (for re-imports). */
  findDataset(root: string, format: FormatName, sourceRel: string | null): DatasetRow | undefined {
    return this.s.findDataset.get(root, format, sourceRel ?? '') as DatasetRow | undefined
  }

  /** The built-in demo dataset row, if present. */
  findBuiltIn(): DatasetRow | undefined {
    return this.s.findBuiltIn.get() as DatasetRow | undefined
  }

  /** Renames a dataset. */
  rename(id: number, name: string): void {
    this.s.rename.run(name, id)
  }

  /** Points a dataset at a new root folder. */
  setRoot(id: number, root: string): void {
    this.s.setRoot.run(root, id)
  }

  /** Stores the split spec in force. */
  setSplitSpec(id: number, spec: string): void {
    this.s.setSplitSpec.run(spec, id)
  }

  /** Bumps updated_at. */
  touch(id: number): void {
    this.s.touch.run(id)
  }

  /** Deletes a dataset with its classes, images and problems (cascade). */
  deleteDataset(id: number): void {
    this.s.deleteDataset.run(id)
  }

  /** Class, image and problem counts of a dataset. */
  counts(id: number): { classes: number; images: number; problems: number } {
    return this.s.counts.get({ id }) as { classes: number; images: number; problems: number }
  }

  /**
   * The counts a dataset summary shows, stored in `datasets.counts_json`: computed once after
   * each change (triggers clear the column, see migration 006), so listing datasets does not
   * scan their images.
   */
  summaryCounts(id: number): SummaryCounts {
    const row = this.s.storedCounts.get(id) as { counts_json: string | null } | undefined
    if (row?.counts_json) return JSON.parse(row.counts_json) as SummaryCounts
    const counts: SummaryCounts = { ...this.counts(id), splits: this.splitCounts(id) }
    if (row) this.s.storeCounts.run(JSON.stringify(counts), id)
    return counts
  }

  /** Per-split class and image counts (train/test from classes, query/gallery from image roles). */
  splitCounts(id: number): { name: string; classes: number; images: number }[] {
    return [
      ...(this.s.splitCounts.all(id) as { name: string; classes: number; images: number }[]),
      ...(this.s.roleCounts.all(id) as { name: string; classes: number; images: number }[])
    ]
  }

  /** Classes of a dataset in ordinal order, with image counts. */
  classes(datasetId: number): ClassRow[] {
    return this.s.classes.all(datasetId) as ClassRow[]
  }

  /** Inserts a class and returns its id. */
  insertClass(v: {
    datasetId: number
    name: string
    group: string | null
    ordinal: number
    presetSplit: SplitSide | null
    split: SplitSide | null
  }): number {
    return Number(this.s.insertClass.run(v).lastInsertRowid)
  }

  /** Updates a class's group, ordinal and preset split. */
  updateClass(v: {
    id: number
    group: string | null
    ordinal: number
    presetSplit: SplitSide | null
  }): void {
    this.s.updateClass.run(v)
  }

  /** Deletes a class (and its images). */
  deleteClass(id: number): void {
    this.s.deleteClass.run(id)
  }

  /** Sets the split in force of one class. */
  setClassSplit(id: number, split: SplitSide | null): void {
    this.s.setClassSplit.run(split, id)
  }

  /** Distinct non-null groups of a dataset. */
  groups(datasetId: number): string[] {
    return (this.s.groups.all(datasetId) as { grp: string }[]).map((r) => r.grp)
  }

  /** Every image row of a dataset. */
  images(datasetId: number): ImageRow[] {
    return this.s.images.all(datasetId) as ImageRow[]
  }

  /** One image with its dataset's root, or undefined. */
  image(id: number): (ImageRow & { root: string; dataset_id: number }) | undefined {
    return this.s.image.get(id) as (ImageRow & { root: string; dataset_id: number }) | undefined
  }

  /** The image of a dataset with this relPath, or undefined. */
  imageByPath(datasetId: number, relPath: string): ImageRow | undefined {
    return this.s.imageByPath.get(datasetId, relPath) as ImageRow | undefined
  }

  /** Inserts an image and returns its id. */
  insertImage(datasetId: number, v: ImageValues): number {
    return Number(this.s.insertImage.run({ datasetId, ...v }).lastInsertRowid)
  }

  /** Updates an image in place (its id stays, so runs that reference it stay valid). */
  updateImage(id: number, v: ImageValues): void {
    const { relPath: _relPath, ...rest } = v
    this.s.updateImage.run({ id, ...rest })
  }

  /** Deletes one image row. */
  deleteImage(id: number): void {
    this.s.deleteImage.run(id)
  }

  /** Replaces the stored problems of a dataset. */
  replaceProblems(datasetId: number, problems: DatasetProblem[]): void {
    this.s.deleteProblems.run(datasetId)
    for (const p of problems) {
      this.s.insertProblem.run({
        datasetId,
        kind: p.kind,
        relPath: p.relPath,
        message: p.message,
        excluded: p.excluded ? 1 : 0
      })
    }
  }

  /** The stored problems of a dataset. */
  problems(datasetId: number): DatasetProblem[] {
    return (
      this.s.problems.all(datasetId) as {
        kind: ProblemKind
        rel_path: string
        message: string
        excluded: number
      }[]
    ).map((r) => ({
      kind: r.kind,
      relPath: r.rel_path,
      message: r.message,
      excluded: r.excluded === 1
    }))
  }

  /** A prepared statement for dynamic SQL (paged image queries), cached by its text. */
  prepared(sql: string): Statement {
    let st = this.dynamic.get(sql)
    if (!st) {
      st = this.db.prepare(sql)
      this.dynamic.set(sql, st)
    }
    return st
  }
}

const repos = new WeakMap<Db, DatasetsRepo>()

/** The repository of a connection (created once). */
export function datasetsRepo(db: Db): DatasetsRepo {
  let r = repos.get(db)
  if (!r) {
    r = new DatasetsRepo(db)
    repos.set(db, r)
  }
  return r
}
