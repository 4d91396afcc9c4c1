/**
 * Import benchmark: images per second for import + validation + thumbnails, on the real
 * Omniglot folder (../shared/datasets/omniglot-background-small) and on a synthetic folder of
 * 10,000 noisy 160×120 JPEGs (100 classes × 100, generated before timing). Thumbnails are
 * requested for every image through resolveMedia, as the UI would (Omniglot's 105 px PNGs are
 * their own thumbnails; the synthetic JPEGs each get a 128 px JPEG).
 * Writes bench/results/import.json: {"omniglotImagesPerSec": n, "synthetic10kImagesPerSec": n}.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import sharp from 'sharp'
import { importDataset } from '../src-main/datasets/importer'
import { resolveMedia } from '../src-main/datasets/media'
import { mapPool } from '../src-main/datasets/pool'
import { datasetsRepo } from '../src-main/datasets/repo'
import { closeContext, createContext, type AppContext } from '../src-main/app/context'

const here = fileURLToPath(new URL('.', import.meta.url))
const OMNIGLOT =
  process.env.HIST_OMNIGLOT_DIR ??
  join(here, '..', '..', 'shared', 'datasets', 'omniglot-background-small')

/** Timed phases of one dataset. */
interface Phases {
  images: number
  importSec: number
  thumbSec: number
  reimportSec: number
}

async function measure(ctx: AppContext, path: string): Promise<Phases> {
  let t = performance.now()
  const res = await importDataset(ctx, { path })
  const importSec = (performance.now() - t) / 1000
  const ids = datasetsRepo(ctx.db)
    .images(res.dataset.id)
    .map((i) => i.id)
  t = performance.now()
  await mapPool(ids, 4, async (id) => {
    const r = await resolveMedia(ctx, `thumb/${id}`)
    if (!r.ok) throw new Error(`thumbnail ${id}: ${r.message}`)
  })
  const thumbSec = (performance.now() - t) / 1000
  t = performance.now()
  await importDataset(ctx, { path })
  const reimportSec = (performance.now() - t) / 1000
  return { images: res.dataset.imageCount, importSec, thumbSec, reimportSec }
}

async function makeSynthetic(root: string): Promise<void> {
  const jobs: { file: string; seed: number }[] = []
  for (let c = 0; c < 100; c++) {
    mkdirSync(join(root, `class_${String(c).padStart(3, '0')}`), { recursive: true })
    for (let i = 0; i < 100; i++)
      jobs.push({
        file: join(root, `class_${String(c).padStart(3, '0')}`, `${i}.jpg`),
        seed: c * 100 + i
      })
  }
  await mapPool(jobs, 4, async ({ file, seed }) => {
    const px = Buffer.alloc(160 * 120 * 3)
    let x = (seed * 2654435761 + 1) >>> 0
    for (let k = 0; k < px.length; k++) {
      x = (Math.imul(x, 1664525) + 1013904223) >>> 0
      px[k] = ((x >>> 24) & 0x7f) | ((k / 480) & 0x80)
    }
    await sharp(px, { raw: { width: 160, height: 120, channels: 3 } })
      .jpeg({ quality: 85 })
      .toFile(file)
  })
}

const rate = (p: Phases): number => Math.round(p.images / (p.importSec + p.thumbSec))

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'hist-bench-data-'))
  const synthDir = mkdtempSync(join(tmpdir(), 'hist-bench-synth-'))
  const ctx = createContext(dataDir, 'cli')
  try {
    console.log(
      `cpus: ${cpus().length}, load average: ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`
    )
    const omni = await measure(ctx, OMNIGLOT)
    console.log('omniglot', omni)
    let t = performance.now()
    await makeSynthetic(synthDir)
    console.log(
      `synthetic 10k JPEGs generated in ${((performance.now() - t) / 1000).toFixed(1)} s (not timed)`
    )
    t = performance.now()
    const synth = await measure(ctx, synthDir)
    console.log('synthetic', synth)
    const result = { omniglotImagesPerSec: rate(omni), synthetic10kImagesPerSec: rate(synth) }
    console.log(
      `import only: omniglot ${Math.round(omni.images / omni.importSec)}/s, synthetic ${Math.round(synth.images / synth.importSec)}/s; ` +
        `unchanged re-import: omniglot ${omni.reimportSec.toFixed(2)} s, synthetic ${synth.reimportSec.toFixed(2)} s`
    )
    console.log(JSON.stringify(result))
    const outDir = join(here, 'results')
    mkdirSync(outDir, { recursive: true })
    writeFileSync(join(outDir, 'import.json'), JSON.stringify(result, null, 2) + '\n')
  } finally {
    closeContext(ctx)
    rmSync(dataDir, { recursive: true, force: true })
    rmSync(synthDir, { recursive: true, force: true })
  }
}

main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})
