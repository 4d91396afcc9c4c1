/**
 * Relinking: pointing a dataset at its files' new location (moved disk, renamed folder).
 * The new root must hold the same files: every image is checked by size when there are up to
 * RELINK_CHECK_ALL, otherwise an evenly spread sample of RELINK_SAMPLE images.
 */
import { stat } from 'node:fs/promises'
import { resolve } from 'node:path'
import type { DatasetSummary } from '../../src-preload/contract'
import type { AppContext } from '../app/context'
import { mapPool } from './pool'
import { absFromRel } from './paths'
import { requireDataset, toSummary } from './queries'
import { datasetsRepo } from './repo'
import { InvalidError } from '../../src-preload/contract/errors'

/** Datasets up to this many images are checked file by file. */
export const RELINK_CHECK_ALL = 5000
/** Sample size for larger datasets. */
export const RELINK_SAMPLE = 500

/** Checks that `newRoot` holds the dataset's files and makes it the root. Throws InvalidError if not. */
export async function relinkDataset(
  ctx: AppContext,
  id: number,
  newRoot: string
): Promise<DatasetSummary> {
  const repo = datasetsRepo(ctx.db)
  const row = requireDataset(repo, id)
  const root = resolve(newRoot)
  try {
    if (!(await stat(root)).isDirectory()) throw new Error('not a folder')
  } catch {
    throw new InvalidError(`cannot relink to ${root}: no such folder`)
  }
  const images = repo.images(id)
  const sample =
    images.length <= RELINK_CHECK_ALL
      ? images
      : Array.from(
          { length: RELINK_SAMPLE },
          (_, i) => images[Math.floor((i * images.length) / RELINK_SAMPLE)]
        )
  const bad: string[] = []
  await mapPool(sample, 16, async (img) => {
    try {
      const st = await stat(absFromRel(root, img.rel_path))
      if (!st.isFile() || st.size !== img.size) bad.push(`${img.rel_path} (size differs)`)
    } catch {
      bad.push(`${img.rel_path} (missing)`)
    }
  })
  if (bad.length) {
    bad.sort()
    throw new InvalidError(
      `cannot relink "${row.name}" to ${root}: ${bad.length} of ${sample.length} checked files do not match, e.g. ` +
        bad.slice(0, 5).join(', ')
    )
  }
  repo.setRoot(id, root)
  return toSummary(repo, requireDataset(repo, id))
}
