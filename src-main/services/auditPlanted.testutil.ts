/**
 * A dataset with planted label mistakes and train/test duplicates, and a cheap real run on it,
 * for the audit's end-to-end tests. Fashion-MNIST images (from the fashion-mnist package, as the
 * built-in demo), 24 per class: group A (Trouser, Bag) trains, group B (Sneaker, T-shirt) tests.
 * Planted: 3 sneakers moved into the T-shirt folder (label mistakes) and 2 trousers copied into
 * it with one pixel changed (label mistakes that are also near copies of training images: leaks;
 * exact copies would be dropped by the import).
 */
import { mkdirSync, renameSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import type { AppContext } from '../app/context'
import { readFashionMnistRows } from '../datasets/demo'
import { importDataset } from '../datasets/importer'
import { createRunsService } from './runs'
import { atEdge } from './services.testutil'

/** Images per class before planting. */
export const PER_CLASS = 24

/** Class folders: label in Fashion-MNIST → folder name (group A trains, B tests). */
const CLASSES: [number, string][] = [
  [1, 'A__trouser'],
  [8, 'A__bag'],
  [7, 'B__sneaker'],
  [0, 'B__tshirt']
]

/** Relative paths of the planted images, as the dataset lists them. */
export const PLANTED_MISLABELS = [
  'B__tshirt/moved-sneaker-0.png',
  'B__tshirt/moved-sneaker-1.png',
  'B__tshirt/moved-sneaker-2.png',
  'B__tshirt/copied-trouser-0.png',
  'B__tshirt/copied-trouser-1.png'
]
/** The planted train/test pairs: [training original, test copy]. */
export const PLANTED_LEAKS: [string, string][] = [
  ['A__trouser/0.png', 'B__tshirt/copied-trouser-0.png'],
  ['A__trouser/1.png', 'B__tshirt/copied-trouser-1.png']
]

/** Writes a 28×28 greyscale PNG. */
async function writeGrey(px: Buffer, file: string): Promise<void> {
  await sharp(px, { raw: { width: 28, height: 28, channels: 1 } })
    .png()
    .toFile(file)
}

/** Writes the planted dataset into `root`. */
export async function writePlantedDataset(root: string): Promise<void> {
  let trousers: number[][] = []
  for (const [label, name] of CLASSES) {
    mkdirSync(join(root, name), { recursive: true })
    const rows = await readFashionMnistRows(label, PER_CLASS)
    if (label === 1) trousers = rows
    for (const [i, r] of rows.entries())
      await writeGrey(Buffer.from(r), join(root, name, `${i}.png`))
  }
  for (let i = 0; i < 3; i++)
    renameSync(
      join(root, 'B__sneaker', `${PER_CLASS - 1 - i}.png`),
      join(root, 'B__tshirt', `moved-sneaker-${i}.png`)
    )
  // Near, not exact, copies: the import drops files with the same content as another.
  for (let i = 0; i < 2; i++) {
    const px = Buffer.from(trousers[i])
    px[0] = px[0] > 127 ? px[0] - 9 : px[0] + 9
    await writeGrey(px, join(root, 'B__tshirt', `copied-trouser-${i}.png`))
  }
}

/** Imports the planted dataset into `ctx` and trains a cheap run (small CNN, 4 epochs). */
export async function plantedRun(
  ctx: AppContext,
  root: string
): Promise<{ datasetId: number; runId: number }> {
  await writePlantedDataset(root)
  const { dataset } = await importDataset(ctx, { path: root, format: 'folder' })
  const service = createRunsService(ctx)
  const runs = atEdge('runs', service)
  try {
    const run = await runs.start({
      datasetId: dataset.id,
      split: { kind: 'group', train: ['A'], test: ['B'] },
      backbone: { kind: 'small-cnn', inputSize: 32 },
      frozen: false,
      embeddingSize: 32,
      hgnnHidden: 16,
      batchSize: 16,
      epochs: 4,
      modelSelection: 'test',
      seed: 5
    })
    const status = await service.waitFor(run.id)
    if (status !== 'completed')
      throw new Error(`the planted run ended ${status}: ${service.repo.get(run.id).message ?? ''}`)
    return { datasetId: dataset.id, runId: run.id }
  } finally {
    await service.shutdown()
  }
}
