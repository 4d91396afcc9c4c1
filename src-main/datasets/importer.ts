/**
 * Importing a dataset: locate and read its listing, validate every file, then write the result
 * to SQLite in ONE transaction at the end (a cancelled or failed import leaves the database as
 * it was). Re-importing the same root (same format and list file) updates the stored dataset in
 * place: image ids of kept files stay the same, unchanged files (same size and mtime) are not
 * decoded again, and the result says what was added, removed and modified.
 *
 * Problem policy:
 * - corrupt / unsupported / zero-byte / unreadable / missing files are excluded and reported;
 * - images above the pixel limit (100 MP by default) are excluded as 'too-large';
 * - duplicates (same sha1): one copy is kept, the others are EXCLUDED (a duplicate across
 *   classes is a label conflict, within a class it would make retrieval trivially find its
 *   copy) and reported with the path of the kept copy. The kept one is the first in a stable
 *   natural order where names that look like copies (`dup_x`, `x copy.png`, `x (1).png`) come
 *   last (see copyOrder);
 * - a class left with one image is kept but flagged 'single-image-class' (it cannot serve as a
 *   query); a class left with none is dropped and flagged 'empty-class';
 * - a file listed twice keeps its first entry; the second is reported.
 */
import {
  ImportRequest,
  SplitSpec,
  UNCHANGED_IMPORT_PREFIX,
  type DatasetProblem,
  type ImportChanges,
  type ImportResult
} from '../../src-preload/contract'
import type { AppContext } from '../app/context'
import { CancelledError } from '../app/jobs'
import { locateDataset, readListing } from './formats'
import { toSummary } from './queries'
import { datasetsRepo, type ImageRow, type ImageValues } from './repo'
import { computeSplit } from './split'
import { removeThumbnails } from './thumbnails'
import { type Listing } from './types'
import { keepFirstCopies } from './duplicates'
import { validateImages, type PriorImage } from './validate'
import { InvalidError } from '../../src-preload/contract/errors'

/** Options of importDataset. */
export interface ImportOptions {
  /** Aborting stops the import; nothing is written (rejects with CancelledError). */
  signal?: AbortSignal
  /** Progress: (done, total, message for a user). */
  onProgress?: (done: number, total: number, message: string) => void
  /** Files decoded at once (default 6). */
  concurrency?: number
  /** Largest image (width × height) imported; default HIST_MAX_IMAGE_PIXELS or 100 MP. */
  maxImagePixels?: number
  /** Marks the dataset as the built-in demo (internal). */
  builtIn?: boolean
  /** Adjusts the listing before validation, e.g. to give a folder dataset a preset split (internal). */
  adjustListing?: (listing: Listing) => void
}

const importing = new Set<string>()

function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new CancelledError()
}

/**
 * Imports (or re-imports) a dataset and returns its summary, the problems found and, for a
 * re-import, what changed. Throws InvalidError for a path that is not a readable dataset
 * and CancelledError when `signal` aborts.
 */
export async function importDataset(
  ctx: AppContext,
  request: ImportRequest,
  opts: ImportOptions = {}
): Promise<ImportResult> {
  const req = ImportRequest.parse(request)
  const progress = opts.onProgress ?? (() => undefined)
  progress(0, 0, 'Reading the file list')
  const loc = await locateDataset(req.path, req.format)
  const key = `${loc.format}\0${loc.root}\0${loc.source ?? ''}`
  if (importing.has(key)) throw new InvalidError(`${loc.root} is already being imported`)
  importing.add(key)
  try {
    return await runImport(ctx, req, loc, opts, progress)
  } finally {
    importing.delete(key)
  }
}

async function runImport(
  ctx: AppContext,
  req: ReturnType<typeof ImportRequest.parse>,
  loc: Awaited<ReturnType<typeof locateDataset>>,
  opts: ImportOptions,
  progress: (done: number, total: number, message: string) => void
): Promise<ImportResult> {
  const listing = await readListing(loc, opts.signal)
  opts.adjustListing?.(listing)
  throwIfAborted(opts.signal)

  const repo = datasetsRepo(ctx.db)
  const existing = repo.findDataset(listing.root, listing.format, listing.sourceRel)
  const priorRows = new Map<string, ImageRow>()
  if (existing) for (const r of repo.images(existing.id)) priorRows.set(r.rel_path, r)
  const prior = new Map<string, PriorImage>()
  for (const [rel, r] of priorRows) {
    prior.set(rel, {
      size: r.size,
      mtimeMs: r.mtime_ms,
      sha1: r.sha1,
      width: r.width,
      height: r.height,
      channels: r.channels
    })
  }

  const total = listing.images.length
  progress(0, total, `Checking ${total} images`)
  const results = await validateImages(listing.root, listing.images, {
    prior,
    signal: opts.signal,
    concurrency: opts.concurrency,
    maxImagePixels: opts.maxImagePixels,
    onProgress: (d, t) => progress(d, t, `Checking images: ${d} / ${t}`)
  })

  const problems: DatasetProblem[] = [...listing.problems]
  const kept = keepFirstCopies(listing, results, problems)
  const perClass = new Map<string, number>()
  for (const k of kept) {
    const c = listing.images[k.index].className
    perClass.set(c, (perClass.get(c) ?? 0) + 1)
  }
  const classes = listing.classes.filter((c) => {
    const n = perClass.get(c.name) ?? 0
    if (n === 0) {
      problems.push({
        kind: 'empty-class',
        relPath: c.name,
        message: 'class has no usable images; it is left out',
        excluded: true
      })
      return false
    }
    if (n === 1) {
      problems.push({
        kind: 'single-image-class',
        relPath: c.name,
        message: 'class has only one image: it cannot serve as a retrieval query (nothing to find)',
        excluded: false
      })
    }
    return true
  })
  throwIfAborted(opts.signal)
  progress(total, total, 'Saving')

  // One transaction for every write: all or nothing.
  const changes: ImportChanges = { added: 0, removed: 0, modified: 0, unchanged: 0 }
  const staleThumbs: number[] = []
  const datasetId = repo.tx(() => {
    const id =
      existing?.id ??
      repo.insertDataset({
        name: req.name ?? listing.suggestedName,
        root: listing.root,
        format: listing.format,
        builtIn: opts.builtIn ?? false,
        splitSpec: JSON.stringify({ kind: 'preset' }),
        sourceRel: listing.sourceRel
      })
    if (existing && req.name) repo.rename(id, req.name)
    if (existing) repo.touch(id)

    // Classes: upsert by name, drop the ones that are gone.
    const oldClasses = new Map(existing ? repo.classes(id).map((c) => [c.name, c]) : [])
    const classIds = new Map<string, number>()
    for (const c of classes) {
      const old = oldClasses.get(c.name)
      if (old) {
        repo.updateClass({
          id: old.id,
          group: c.group,
          ordinal: c.ordinal,
          presetSplit: c.presetSplit
        })
        classIds.set(c.name, old.id)
        oldClasses.delete(c.name)
      } else {
        classIds.set(
          c.name,
          repo.insertClass({
            datasetId: id,
            name: c.name,
            group: c.group,
            ordinal: c.ordinal,
            presetSplit: c.presetSplit,
            split: null
          })
        )
      }
    }

    // Images: update kept ones in place, insert new ones, delete the rest.
    const keptPaths = new Set<string>()
    for (const { index, good } of kept) {
      const img = listing.images[index]
      keptPaths.add(img.relPath)
      const v: ImageValues = {
        classId: classIds.get(img.className)!,
        relPath: img.relPath,
        size: good.size,
        mtimeMs: good.mtimeMs,
        sha1: good.sha1,
        width: good.width,
        height: good.height,
        channels: good.channels,
        role: img.role
      }
      const old = priorRows.get(img.relPath)
      if (!old) {
        repo.insertImage(id, v)
        changes.added++
      } else if (good.reused && old.class_id === v.classId && old.role === v.role) {
        changes.unchanged++
      } else {
        repo.updateImage(old.id, v)
        changes.modified++
        if (old.sha1 !== v.sha1) staleThumbs.push(old.id)
      }
    }
    for (const [rel, old] of priorRows) {
      if (keptPaths.has(rel)) continue
      repo.deleteImage(old.id)
      staleThumbs.push(old.id)
      changes.removed++
    }
    for (const old of oldClasses.values()) repo.deleteClass(old.id)

    // Re-apply the split in force; a spec that no longer fits falls back to the preset.
    const stored = SplitSpec.safeParse(
      existing ? JSON.parse(existing.split_spec) : { kind: 'preset' }
    )
    let spec: SplitSpec = stored.success ? stored.data : { kind: 'preset' }
    const splitClasses = repo
      .classes(id)
      .map((c) => ({ id: c.id, ordinal: c.ordinal, group: c.grp, presetSplit: c.preset_split }))
    let sides
    try {
      sides = computeSplit(spec, splitClasses)
    } catch (err) {
      if (!(err instanceof InvalidError)) throw err
      spec = { kind: 'preset' }
      sides = computeSplit(spec, splitClasses)
    }
    for (const [cid, side] of sides) repo.setClassSplit(cid, side)
    repo.setSplitSpec(id, JSON.stringify(spec))
    repo.replaceProblems(id, problems)
    return id
  })
  if (staleThumbs.length) await removeThumbnails(ctx, datasetId, staleThumbs)
  const dataset = toSummary(repo, repo.getDataset(datasetId)!)
  const message = importMessage(dataset, problems.length, existing ? changes : undefined)
  progress(total, total, message)
  return existing ? { dataset, problems, changes, message } : { dataset, problems, message }
}

/** The one-line outcome of an import, shown by the CLI and the import dialog. */
export function importMessage(
  dataset: ImportResult['dataset'],
  problemCount: number,
  changes?: ImportChanges
): string {
  if (!changes)
    return `Imported ${dataset.name}: ${dataset.classCount} classes, ${dataset.imageCount} images, ${problemCount} problems`
  const { added, removed, modified, unchanged } = changes
  if (added + removed + modified === 0)
    return `${UNCHANGED_IMPORT_PREFIX} ${dataset.name} is already up to date (${unchanged} images, none added, removed or modified)`
  return `Re-imported ${dataset.name}: ${added} added, ${removed} removed, ${modified} modified, ${unchanged} unchanged`
}
