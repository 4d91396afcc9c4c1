/**
 * Plain types shared by the dataset importers, the validator and the repository.
 * A format reader turns a path into a `Listing`; the validator checks every listed file; the
 * importer writes what survives into SQLite.
 */
import type { DatasetFormat, DatasetProblem } from '../../src-preload/contract'

/** A concrete dataset format (never 'auto'). */
export type FormatName = Exclude<DatasetFormat, 'auto'>

/** Train/test side of a class. */
export type SplitSide = 'train' | 'test'

/** Query/gallery role of an image in formats that define one (In-Shop, CSV). */
export type ImageRole = 'query' | 'gallery' | 'both'

/** One class as the format describes it. */
export interface ListedClass {
  name: string
  /** Grouping such as the Omniglot alphabet or the SOP super-class; null when none. */
  group: string | null
  /** 1-based position in the format's class order (CUB/Cars class numbers). */
  ordinal: number
  /** The split the format's standard protocol gives, or null. */
  presetSplit: SplitSide | null
}

/** One image as the format lists it, before any file is opened. */
export interface ListedImage {
  /** Path relative to the dataset root, always with forward slashes. */
  relPath: string
  className: string
  role: ImageRole | null
  /** Where the listing came from (for messages), e.g. "images.txt line 12". */
  origin?: string
}

/** What a format reader found: the root, the classes, the images and listing-level problems. */
export interface Listing {
  format: FormatName
  /** Absolute dataset root; every relPath is relative to it. */
  root: string
  /** The list/annotation file relative to the root (null for folder datasets). */
  sourceRel: string | null
  classes: ListedClass[]
  images: ListedImage[]
  /** Problems found while reading the listing (files listed twice, unsupported files...). */
  problems: DatasetProblem[]
  /** Name suggested by the format (folder name), used when the request has none. */
  suggestedName: string
}
