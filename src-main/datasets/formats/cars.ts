/**
 * Cars196 (Stanford Cars): `cars_annos.mat`, a MATLAB level-5 file with the struct array
 * `annotations` (relative_im_path, class, test, bbox...) and the cell array `class_names`.
 * Parsed with our own MAT v5 reader (./mat5.ts: compressed or not; v7.3/HDF5 files are not
 * supported and fail with an error that says so). Standard DML protocol: classes 1-98 train, 99-196 test.
 */
import { readFile } from 'node:fs/promises'
import { basename, dirname, relative } from 'node:path'
import { toPosix } from '../paths'
import { type Listing } from '../types'
import { ListingBuilder } from './builder'
import { InvalidError } from '../../../src-preload/contract/errors'
import { MatFormatError, readMat5, type MatArray } from './mat5'

/** Last class number of the Cars196 train half. */
export const CARS_TRAIN_LAST_CLASS = 98

/** A char array's text (rows joined; trailing NULs and blanks trimmed), or null if not char. */
function matString(v: MatArray | undefined): string | null {
  if (!v || v.kind !== 'char') return null
  return v.rows.join('').replace(/\0+$/, '').trim()
}

/** The number of a 1x1 numeric array, or null. */
function matNumber(v: MatArray | undefined): number | null {
  return v && v.kind === 'numeric' && v.data.length === 1 ? v.data[0] : null
}

/** Reads Cars196 from its cars_annos.mat; image paths are relative to the .mat's folder. */
export async function readCarsListing(root: string, matFile: string): Promise<Listing> {
  let vars: Record<string, MatArray>
  try {
    vars = readMat5(await readFile(matFile))
  } catch (err) {
    if (!(err instanceof MatFormatError)) throw err
    throw new InvalidError(
      `cannot parse ${matFile} as a MATLAB level-5 MAT-file (Cars196 cars_annos.mat): ${err.message}`
    )
  }
  const annotations = vars.annotations
  const annos = annotations?.kind === 'struct' ? annotations.items : []
  if (annos.length === 0) {
    throw new InvalidError(
      `${matFile} has no "annotations" struct array (expected fields relative_im_path, class, test); ` +
        'this Cars196 annotation layout is not supported'
    )
  }
  const classNames = vars.class_names
  const names = classNames?.kind === 'cell' ? classNames.items.map(matString) : []
  const base = dirname(matFile)
  const b = new ListingBuilder(
    'cars',
    root,
    toPosix(relative(root, matFile)),
    basename(root) || 'Cars196'
  )
  const classNameOf = (n: number): string => {
    const given = names[n - 1]
    return given ? given : `class_${String(n).padStart(3, '0')}`
  }
  const used = new Map<string, number>()
  const nameByNum = new Map<number, string>()
  annos.forEach((a, i) => {
    const origin = `cars_annos.mat annotation ${i + 1}`
    const rec = a
    const path = matString(rec.relative_im_path)
    const cls = matNumber(rec.class)
    if (!path || cls === null || !Number.isInteger(cls) || cls < 1) {
      return b.badLine(origin, 'expected relative_im_path (text) and class (a positive integer)')
    }
    let name = nameByNum.get(cls)
    if (name === undefined) {
      name = classNameOf(cls)
      // Class names must be unique in the database; disambiguate repeats by number.
      if (used.has(name)) name = `${name} (${cls})`
      used.set(name, cls)
      nameByNum.set(cls, name)
      b.addClass(name, null, cls, cls <= CARS_TRAIN_LAST_CLASS ? 'train' : 'test')
    }
    b.addImage(base, path, name, null, origin)
  })
  return b.build()
}
