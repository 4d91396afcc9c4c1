/**
 * Cars196 (Stanford Cars): `cars_annos.mat`, a MATLAB level-5 file with the struct array
 * `annotations` (relative_im_path, class, test, bbox...) and the cell array `class_names`.
 * Parsed with `mat-for-js` (MAT v5, compressed or not; v7.3/HDF5 files are not supported and
 * fail with an error that says so). Standard DML protocol: classes 1-98 train, 99-196 test.
 */
import { readFile } from 'node:fs/promises'
import { basename, dirname, relative } from 'node:path'
import { toPosix } from '../paths'
import { type Listing } from '../types'
import { ListingBuilder } from './builder'
import { InvalidError } from '../../../src-preload/contract/errors'

/** Last class number of the Cars196 train half. */
export const CARS_TRAIN_LAST_CLASS = 98

/** mat-for-js gives char arrays as strings or as arrays of char codes; this turns either into a string. */
function matString(v: unknown): string | null {
  if (typeof v === 'string') return v.replace(/\0+$/, '').trim()
  if (Array.isArray(v)) {
    const flat = (v as unknown[]).flat(Infinity)
    if (flat.every((c) => typeof c === 'number'))
      return String.fromCharCode(...(flat as number[])).trim()
    if (flat.every((c) => typeof c === 'string')) return (flat as string[]).join('').trim()
  }
  return null
}

/** mat-for-js gives a 1x1 numeric as a one-element array; this returns the number. */
function matNumber(v: unknown): number | null {
  let x: unknown = v
  while (Array.isArray(x) && x.length === 1) x = x[0]
  if (typeof x === 'number') return x
  if (typeof x === 'bigint') return Number(x)
  return null
}

/** The elements of a 1xN / Nx1 struct or cell array (mat-for-js gives those as plain arrays). */
function flatList(v: unknown): unknown[] {
  if (!Array.isArray(v)) return v === undefined || v === null ? [] : [v]
  // A 2-D array of elements comes as nested arrays of objects; a list of char arrays must not
  // be flattened further, so only unwrap arrays whose items are themselves arrays of objects.
  return (v as unknown[]).flatMap((x) =>
    Array.isArray(x) &&
    x.length > 0 &&
    x.every((y) => typeof y === 'object' && y !== null && !Array.isArray(y))
      ? x
      : [x]
  )
}

/** Reads Cars196 from its cars_annos.mat; image paths are relative to the .mat's folder. */
export async function readCarsListing(root: string, matFile: string): Promise<Listing> {
  let parsed: { data: Record<string, unknown> }
  try {
    const { read } = await import('mat-for-js')
    const buf = await readFile(matFile)
    parsed = read(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer)
  } catch (err) {
    const msg = (err as Error).message
    throw new InvalidError(
      `cannot parse ${matFile} as a MATLAB level-5 MAT-file (Cars196 cars_annos.mat): ${msg}` +
        (/HDF5|7\.3/.test(msg)
          ? ' — MAT v7.3 (HDF5) files are not supported; re-save with -v7'
          : '')
    )
  }
  const annos = flatList(parsed.data.annotations)
  if (annos.length === 0) {
    throw new InvalidError(
      `${matFile} has no "annotations" struct array (expected fields relative_im_path, class, test); ` +
        'this Cars196 annotation layout is not supported'
    )
  }
  const names = flatList(parsed.data.class_names).map(matString)
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
    const rec = (a ?? {}) as Record<string, unknown>
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
