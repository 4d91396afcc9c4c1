/**
 * Read-side helpers: DTOs for the service (summaries, details, image pages) and the plain
 * functions the trainer uses to get a dataset's images (`getDatasetItems`, `getDatasetClasses`).
 */
import { statSync } from 'node:fs'
import type { z } from 'zod'
import {
  SplitSpec,
  type ListImagesRequest,
  type ClassSummary,
  type DatasetDetail,
  type DatasetSummary,
  type ImagePage,
  type SplitSummary
} from '../../src-preload/contract'
import { NotFoundError } from '../../src-preload/contract/errors'
import type { AppContext } from '../app/context'
import { absFromRel } from './paths'
import { datasetsRepo, type DatasetRow, type DatasetsRepo } from './repo'
import { computeSplit } from './split'
import type { ImageRole, SplitSide } from './types'

/** The dataset row, or NotFoundError. */
export function requireDataset(repo: DatasetsRepo, id: number): DatasetRow {
  const row = repo.getDataset(id)
  if (!row) throw new NotFoundError(`no dataset with id ${id}`)
  return row
}

function dirExists(p: string): boolean {
  try {
    return statSync(p).isDirectory()
  } catch {
    return false
  }
}

const SPLIT_ORDER: SplitSummary['name'][] = ['train', 'test', 'query', 'gallery', 'val']

/** The summary DTO of a dataset row. */
export function toSummary(repo: DatasetsRepo, row: DatasetRow): DatasetSummary {
  const c = repo.summaryCounts(row.id)
  const splits = c.splits
    .map((s) => ({
      name: s.name as SplitSummary['name'],
      classCount: s.classes,
      imageCount: s.images
    }))
    .sort((a, b) => SPLIT_ORDER.indexOf(a.name) - SPLIT_ORDER.indexOf(b.name))
  return {
    id: row.id,
    name: row.name,
    root: row.root,
    format: row.format,
    classCount: c.classes,
    imageCount: c.images,
    problemCount: c.problems,
    splits,
    createdAt: row.created_at,
    rootExists: dirExists(row.root),
    builtIn: row.built_in === 1
  }
}

/** The summary of dataset `id` (NotFoundError when absent). */
export function datasetSummary(ctx: AppContext, id: number): DatasetSummary {
  const repo = datasetsRepo(ctx.db)
  return toSummary(repo, requireDataset(repo, id))
}

/** Every dataset's summary, in creation order. */
export function listDatasets(ctx: AppContext): DatasetSummary[] {
  const repo = datasetsRepo(ctx.db)
  return repo.listDatasets().map((r) => toSummary(repo, r))
}

/** The full detail of a dataset: classes, problems and groups. */
export function datasetDetail(ctx: AppContext, id: number): DatasetDetail {
  const repo = datasetsRepo(ctx.db)
  const row = requireDataset(repo, id)
  const classes: ClassSummary[] = repo.classes(id).map((c) => ({
    id: c.id,
    name: c.name,
    group: c.grp,
    imageCount: c.image_count,
    split: c.split
  }))
  return { ...toSummary(repo, row), classes, problems: repo.problems(id), groups: repo.groups(id) }
}

/**
 * A page of images, filtered by class, split and a case-insensitive search on class or file name.
 * `p` is the request as the dispatch validated it (defaults applied).
 */
export function listImages(ctx: AppContext, p: z.output<typeof ListImagesRequest>): ImagePage {
  const repo = datasetsRepo(ctx.db)
  requireDataset(repo, p.datasetId)
  const where = ['i.dataset_id = @datasetId']
  const params: Record<string, unknown> = { datasetId: p.datasetId }
  if (p.classId !== undefined) {
    where.push('i.class_id = @classId')
    params.classId = p.classId
  }
  if (p.split === 'train' || p.split === 'test') {
    where.push('c.split = @split')
    params.split = p.split
  } else if (p.split === 'query' || p.split === 'gallery') {
    where.push(`c.split = 'test' AND i.role IN (@split, 'both')`)
    params.split = p.split
  } else if (p.split === 'val') {
    where.push('0')
  }
  if (p.search && p.search.trim()) {
    // SQLite's LIKE is case-insensitive for ASCII letters; wildcards in the text are escaped.
    where.push(`(c.name LIKE @search ESCAPE '\\' OR i.rel_path LIKE @search ESCAPE '\\')`)
    params.search = `%${p.search.trim().replace(/[\\%_]/g, (m) => `\\${m}`)}%`
  }
  const from = `FROM images i JOIN classes c ON c.id = i.class_id WHERE ${where.join(' AND ')}`
  const total = (repo.prepared(`SELECT count(*) AS n ${from}`).get(params) as { n: number }).n
  const rows = repo
    .prepared(
      `SELECT i.id, i.dataset_id, i.class_id, c.name AS class_name, i.rel_path ${from}
       ORDER BY c.ordinal, i.rel_path LIMIT @limit OFFSET @offset`
    )
    .all({ ...params, limit: p.limit, offset: p.offset }) as {
    id: number
    dataset_id: number
    class_id: number
    class_name: string
    rel_path: string
  }[]
  return {
    total,
    images: rows.map((r) => ({
      id: r.id,
      datasetId: r.dataset_id,
      classId: r.class_id,
      className: r.class_name,
      relPath: r.rel_path
    }))
  }
}

/** Which images getDatasetItems returns. 'query'/'gallery' are the test images with that role. */
export type ItemSelection = 'train' | 'test' | 'query' | 'gallery' | 'all'

/** One class of a selection, with its 0-based label. */
export interface DatasetClassInfo {
  classId: number
  name: string
  group: string | null
  /** 1-based class number in the format's order. */
  ordinal: number
  /** 0-based index of the class within the selection (the training label). */
  label: number
  split: SplitSide | null
  imageCount: number
}

/** One image for the trainer / evaluator. */
export interface DatasetItem {
  imageId: number
  /** Absolute path of the file (root + relPath). Decode it as RGB: see decode.ts. */
  absPath: string
  relPath: string
  /** 0-based index of the class within the selection, in class order (ordinal). */
  label: number
  classId: number
  className: string
  /** The class's group (Omniglot alphabet, SOP super-class...), else null. */
  group: string | null
  /** In-Shop / CSV query-gallery role, else null. */
  role: ImageRole | null
  width: number | null
  height: number | null
  /** Channels as stored (1 grey, 2 grey+alpha, 3 RGB, 4 RGBA/CMYK). */
  channels: number | null
}

/** The train/test side of each class id under `spec`, or the stored one when no spec is given. */
function classSides(
  repo: DatasetsRepo,
  datasetId: number,
  spec?: SplitSpec
): Map<number, SplitSide | null> {
  const classes = repo.classes(datasetId)
  if (!spec) return new Map(classes.map((c) => [c.id, c.split]))
  return computeSplit(
    SplitSpec.parse(spec),
    classes.map((c) => ({
      id: c.id,
      ordinal: c.ordinal,
      group: c.grp,
      presetSplit: c.preset_split
    }))
  )
}

function inSelection(sel: ItemSelection, side: SplitSide | null, role: ImageRole | null): boolean {
  switch (sel) {
    case 'all':
      return true
    case 'train':
    case 'test':
      return side === sel
    case 'query':
    case 'gallery':
      return side === 'test' && (role === sel || role === 'both')
  }
}

/**
 * The classes of a selection in class order, each with its 0-based label. `spec` overrides
 * the dataset's stored split (e.g. the split in a run's TrainConfig); without it the split in
 * force (classes.split) is used. Classes without images in the selection are left out.
 */
export function getDatasetClasses(
  ctx: AppContext,
  datasetId: number,
  selection: ItemSelection = 'all',
  spec?: SplitSpec
): DatasetClassInfo[] {
  return selectItems(ctx, datasetId, selection, spec).classes
}

/**
 * The images of a dataset for training or evaluation, in class order then path order:
 * `{ imageId, absPath, label, classId, className, ... }`. `label` is the 0-based index of the
 * class among the classes present in the selection (so train labels are 0..nTrain-1).
 * `selection`: 'train' | 'test' (class split), 'query' | 'gallery' (test images by role, for
 * In-Shop / CSV), or 'all' (default). `spec` overrides the stored split (see getDatasetClasses).
 * Throws NotFoundError for an unknown dataset.
 */
export function getDatasetItems(
  ctx: AppContext,
  datasetId: number,
  selection: ItemSelection = 'all',
  spec?: SplitSpec
): DatasetItem[] {
  return selectItems(ctx, datasetId, selection, spec).items
}

function selectItems(
  ctx: AppContext,
  datasetId: number,
  selection: ItemSelection,
  spec?: SplitSpec
): { classes: DatasetClassInfo[]; items: DatasetItem[] } {
  const repo = datasetsRepo(ctx.db)
  const row = requireDataset(repo, datasetId)
  const sides = classSides(repo, datasetId, spec)
  const classes = repo.classes(datasetId)
  const images = repo.images(datasetId)
  const byClass = new Map<number, typeof images>()
  for (const img of images) {
    if (!inSelection(selection, sides.get(img.class_id) ?? null, img.role)) continue
    const list = byClass.get(img.class_id) ?? byClass.set(img.class_id, []).get(img.class_id)!
    list.push(img)
  }
  const outClasses: DatasetClassInfo[] = []
  const items: DatasetItem[] = []
  for (const c of classes) {
    const imgs = byClass.get(c.id)
    if (!imgs || imgs.length === 0) continue
    const label = outClasses.length
    outClasses.push({
      classId: c.id,
      name: c.name,
      group: c.grp,
      ordinal: c.ordinal,
      label,
      split: sides.get(c.id) ?? null,
      imageCount: imgs.length
    })
    imgs.sort((a, b) => (a.rel_path < b.rel_path ? -1 : a.rel_path > b.rel_path ? 1 : 0))
    for (const img of imgs) {
      items.push({
        imageId: img.id,
        absPath: absFromRel(row.root, img.rel_path),
        relPath: img.rel_path,
        label,
        classId: c.id,
        className: c.name,
        group: c.grp,
        role: img.role,
        width: img.width,
        height: img.height,
        channels: img.channels
      })
    }
  }
  return { classes: outClasses, items }
}
