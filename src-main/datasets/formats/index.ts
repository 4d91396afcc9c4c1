/**
 * Format detection and dispatch: turns the path a user gave (a folder, or a list/annotation
 * file) and a format (or 'auto') into a Listing.
 */
import { statSync } from 'node:fs'
import { readdir, readFile, stat } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import type { DatasetFormat } from '../../../src-preload/contract'
import { type FormatName, type Listing } from '../types'
import { readCarsListing } from './cars'
import { readCsvListing } from './csv'
import { readCubListing } from './cub'
import { readFolderListing } from './folder'
import { readInShopListing } from './inshop'
import { readSopListing } from './sop'
import { InvalidError } from '../../../src-preload/contract/errors'

/** Where a dataset lives: the root folder and, for list formats, the list file that defines it. */
export interface Located {
  format: FormatName
  root: string
  /** The list/annotation file (absolute), or null for folder datasets. */
  source: string | null
}

const isFile = (p: string): boolean => {
  try {
    return statSync(p).isFile()
  } catch {
    return false
  }
}

function findCub(dir: string): string | null {
  for (const base of [dir, join(dir, 'CUB_200_2011')]) {
    if (
      ['images.txt', 'image_class_labels.txt', 'classes.txt'].every((f) => isFile(join(base, f)))
    ) {
      return join(base, 'images.txt')
    }
  }
  return null
}

function findSop(dir: string): string | null {
  for (const base of [dir, join(dir, 'Stanford_Online_Products')]) {
    for (const f of ['Ebay_train.txt', 'Ebay_test.txt'])
      if (isFile(join(base, f))) return join(base, f)
  }
  return null
}

function findInShop(dir: string): string | null {
  for (const base of [dir, join(dir, 'Eval'), join(dir, 'eval')]) {
    if (isFile(join(base, 'list_eval_partition.txt'))) return join(base, 'list_eval_partition.txt')
  }
  return null
}

function findCars(dir: string): string | null {
  for (const base of [dir, join(dir, 'devkit')]) {
    if (isFile(join(base, 'cars_annos.mat'))) return join(base, 'cars_annos.mat')
  }
  return null
}

async function findCsv(dir: string, strict: boolean): Promise<string | null> {
  const csvs = (await readdir(dir)).filter((f) => f.toLowerCase().endsWith('.csv')).sort()
  if (csvs.length === 1) return join(dir, csvs[0])
  if (csvs.length > 1 && strict) {
    throw new InvalidError(
      `several CSV files in ${dir} (${csvs.join(', ')}); give the path of the one to import`
    )
  }
  return null
}

/** Finds the format (when 'auto') and the files that define the dataset at `path`. */
export async function locateDataset(path: string, format: DatasetFormat): Promise<Located> {
  const abs = resolve(path)
  let st
  try {
    st = await stat(abs)
  } catch {
    throw new InvalidError(`no such file or folder: ${abs}`)
  }
  if (st.isFile()) {
    const name = basename(abs).toLowerCase()
    const root = dirname(abs)
    const byName: FormatName | null = name.endsWith('.csv')
      ? 'csv'
      : name.endsWith('.mat')
        ? 'cars'
        : name === 'images.txt'
          ? 'cub'
          : /^ebay_(train|test)\.txt$/.test(name)
            ? 'sop'
            : name === 'list_eval_partition.txt'
              ? 'inshop'
              : null
    const f = format === 'auto' ? byName : format
    if (!f || f === 'folder') {
      throw new InvalidError(
        `cannot import the file ${abs} as ${f ?? 'a dataset'}: give a dataset folder, a CSV, ` +
          'cars_annos.mat, images.txt (CUB), Ebay_train.txt (SOP) or list_eval_partition.txt (In-Shop)'
      )
    }
    // CUB and SOP are rooted at the folder of their lists; In-Shop at its parent when in Eval/.
    const r = f === 'inshop' && /^eval$/i.test(basename(root)) ? dirname(root) : root
    return { format: f, root: r, source: abs }
  }
  if (!st.isDirectory()) throw new InvalidError(`${abs} is neither a file nor a folder`)

  const finders: Record<Exclude<FormatName, 'folder' | 'csv'>, (d: string) => string | null> = {
    cub: findCub,
    sop: findSop,
    inshop: findInShop,
    cars: findCars
  }
  const expected: Record<FormatName, string> = {
    cub: 'images.txt, image_class_labels.txt and classes.txt (in the folder or in CUB_200_2011/)',
    sop: 'Ebay_train.txt or Ebay_test.txt (in the folder or in Stanford_Online_Products/)',
    inshop: 'list_eval_partition.txt (in the folder or in Eval/)',
    cars: 'cars_annos.mat (in the folder or in devkit/)',
    csv: 'exactly one .csv file with label and path columns',
    folder: 'one sub-folder per class'
  }
  if (format === 'folder') return { format: 'folder', root: abs, source: null }
  if (format === 'csv') {
    const csv = await findCsv(abs, true)
    if (!csv) throw new InvalidError(`no CSV file in ${abs}: expected ${expected.csv}`)
    return { format: 'csv', root: abs, source: csv }
  }
  if (format !== 'auto') {
    const src = finders[format](abs)
    if (!src)
      throw new InvalidError(`${abs} is not a ${format} dataset: expected ${expected[format]}`)
    return { format, root: abs, source: src }
  }
  for (const f of ['cub', 'sop', 'inshop', 'cars'] as const) {
    const src = finders[f](abs)
    if (src) return { format: f, root: abs, source: src }
  }
  const csv = await findCsv(abs, false)
  if (csv && (await looksLikeOmlCsv(csv))) return { format: 'csv', root: abs, source: csv }
  return { format: 'folder', root: abs, source: null }
}

async function looksLikeOmlCsv(file: string): Promise<boolean> {
  const head = (await readFile(file, 'utf8')).slice(0, 4096).split(/\r?\n/)[0].toLowerCase()
  const cols = head.split(',').map((c) => c.trim().replace(/^"|"$/g, ''))
  return cols.includes('label') && cols.includes('path')
}

/** Reads the listing of a located dataset. */
export async function readListing(loc: Located, signal?: AbortSignal): Promise<Listing> {
  switch (loc.format) {
    case 'folder':
      return readFolderListing(loc.root, signal)
    case 'cub':
      return readCubListing(loc.root, dirname(loc.source!))
    case 'sop':
      return readSopListing(loc.root, dirname(loc.source!))
    case 'inshop':
      return readInShopListing(loc.root, loc.source!)
    case 'cars':
      return readCarsListing(loc.root, loc.source!)
    case 'csv':
      return readCsvListing(loc.root, loc.source!)
  }
}
