/** Helpers for the list-file formats: reading text tables and collecting a Listing. */
import { readFile } from 'node:fs/promises'
import type { DatasetProblem } from '../../../src-preload/contract'
import { listedToRel } from '../paths'
import {
  type FormatName,
  type ImageRole,
  type ListedClass,
  type ListedImage,
  type Listing,
  type SplitSide
} from '../types'
import { InvalidError } from '../../../src-preload/contract/errors'

/** Reads a UTF-8 text file into lines (BOM and trailing blank lines removed). */
export async function readLines(file: string): Promise<string[]> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    throw new InvalidError(`cannot read ${file}: ${(err as Error).message}`)
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1)
  const lines = text.split(/\r?\n/)
  while (lines.length && lines[lines.length - 1].trim() === '') lines.pop()
  return lines
}

/** Splits a whitespace-separated line into fields. */
export function fields(line: string): string[] {
  return line.trim().split(/\s+/)
}

/** Collects classes and images of a list-based format, reporting files listed twice. */
export class ListingBuilder {
  private classes = new Map<string, ListedClass>()
  private images: ListedImage[] = []
  private seen = new Map<string, ListedImage>()
  readonly problems: DatasetProblem[] = []

  constructor(
    private format: FormatName,
    private root: string,
    private sourceRel: string | null,
    private suggestedName: string
  ) {}

  /** Adds a class (the first definition of a name wins). */
  addClass(
    name: string,
    group: string | null,
    ordinal: number,
    presetSplit: SplitSide | null
  ): void {
    if (!this.classes.has(name)) this.classes.set(name, { name, group, ordinal, presetSplit })
  }

  /** True when a class with that name exists. */
  hasClass(name: string): boolean {
    return this.classes.has(name)
  }

  /**
   * Adds an image given as listed (relative to `base`, or absolute inside the root). A path
   * outside the root or listed a second time becomes a problem instead.
   */
  addImage(
    base: string,
    listedPath: string,
    className: string,
    role: ImageRole | null,
    origin: string
  ): void {
    const rel = listedToRel(this.root, base, listedPath)
    if (rel === null) {
      this.problems.push({
        kind: 'unreadable',
        relPath: listedPath,
        message: `${origin}: the path is outside the dataset root ${this.root}; only files inside it are imported`,
        excluded: true
      })
      return
    }
    const first = this.seen.get(rel)
    if (first) {
      const sameClass = first.className === className
      this.problems.push({
        kind: 'listed-twice',
        relPath: rel,
        message:
          `listed twice (${first.origin} and ${origin}); the second entry is ignored` +
          (sameClass ? '' : ` (it named class "${className}", the first "${first.className}")`),
        excluded: false
      })
      return
    }
    const img: ListedImage = { relPath: rel, className, role, origin }
    this.seen.set(rel, img)
    this.images.push(img)
  }

  /** Records a malformed line of a list file. */
  badLine(origin: string, message: string): void {
    this.problems.push({
      kind: 'unreadable',
      relPath: origin,
      message: `${origin}: ${message}`,
      excluded: true
    })
  }

  /** The finished listing; classes in ordinal order. Throws when nothing was listed. */
  build(): Listing {
    if (this.images.length === 0 && this.problems.length === 0) {
      throw new InvalidError(`the ${this.format} list files in ${this.root} list no images`)
    }
    const classes = [...this.classes.values()].sort((a, b) => a.ordinal - b.ordinal)
    return {
      format: this.format,
      root: this.root,
      sourceRel: this.sourceRel,
      classes,
      images: this.images,
      problems: this.problems,
      suggestedName: this.suggestedName
    }
  }
}
