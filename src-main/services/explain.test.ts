/**
 * The explain service end to end: a real run (frozen small CNN, one epoch, on 16 Omniglot
 * characters), then the heat-maps of a query and a result computed in the worker thread. The
 * decomposition must give back the similarity of the run's own embeddings (the ones the
 * retrieval browser ranks with), and each map must sum to it.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { closeContext, createContext, type AppContext } from '../app/context'
import { importDataset } from '../datasets/importer'
import { resolveMedia } from '../datasets/media'
import { datasetsRepo } from '../datasets/repo'
import { loadRunModel } from '../runs/inference'
import { createExplainService, type ExplainServiceImpl } from './explain'
import { createRunsService } from './runs'
import { atEdge } from './services.testutil'

const here = dirname(fileURLToPath(import.meta.url))
const OMNIGLOT = resolve(here, '..', '..', '..', 'shared', 'datasets', 'omniglot-background-small')

let dir: string
let ctx: AppContext
let runId: number
let imageIds: number[]
let explain: ExplainServiceImpl

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hist-explain-'))
  const root = join(dir, 'ds')
  const classes = readdirSync(OMNIGLOT).sort()
  for (const a of ['Greek', 'Latin'])
    for (const c of classes.filter((n) => n.startsWith(`${a}__`)).slice(0, 8)) {
      mkdirSync(join(root, c), { recursive: true })
      for (const f of readdirSync(join(OMNIGLOT, c)))
        copyFileSync(join(OMNIGLOT, c, f), join(root, c, f))
    }
  ctx = createContext(join(dir, 'data'), 'cli')
  const { dataset } = await importDataset(ctx, { path: root, format: 'folder' })
  const runs = atEdge('runs', createRunsService(ctx))
  const run = await runs.start({
    datasetId: dataset.id,
    split: { kind: 'group', train: ['Greek'], test: ['Latin'] },
    backbone: { kind: 'small-cnn', inputSize: 32 },
    frozen: true,
    embeddingSize: 32,
    hgnnHidden: 16,
    batchSize: 16,
    epochs: 1,
    seed: 5
  })
  expect(await runs.waitFor(run.id)).toBe('completed')
  await runs.shutdown()
  runId = run.id
  imageIds = datasetsRepo(ctx.db)
    .images(dataset.id)
    .filter((i) => i.rel_path.startsWith('Latin'))
    .slice(0, 3)
    .map((i) => i.id)
  explain = createExplainService(ctx)
}, 300_000)

afterAll(async () => {
  await explain?.dispose()
  closeContext(ctx)
  rmSync(dir, { recursive: true, force: true })
})

describe('explain service', () => {
  it('decomposes the similarity of the run’s own embeddings; both maps sum to it', async () => {
    const [q, r] = imageIds
    const e = await explain.pair({ runId, queryImageId: q, resultImageId: r })
    const model = await loadRunModel(ctx, runId)
    const files = await Promise.all([q, r].map((id) => resolveMedia(ctx, `image/${id}`)))
    const emb = await model.embed(files.map((f) => (f.ok ? f.filePath : '')))
    model.dispose()
    let cos = 0
    for (let k = 0; k < 32; k++) cos += emb[k] * emb[32 + k]
    expect(e.similarity).toBeCloseTo(cos, 4)
    const sum = (v: number[]) => v.reduce((s, x) => s + x, 0)
    expect(sum(e.query.values)).toBeCloseTo(e.similarity, 4)
    expect(sum(e.result.values)).toBeCloseTo(e.similarity, 4)
    expect(e.query.values).toHaveLength(e.query.h * e.query.w)
    expect(e.query.h).toBeGreaterThan(1)
  }, 120_000)

  it('gives a single image’s activation map (sums to 1) and names a missing image or run', async () => {
    const a = await explain.single({ runId, imageId: imageIds[2] })
    expect(a.map.values.reduce((s, x) => s + x, 0)).toBeCloseTo(1, 4)
    await expect(explain.single({ runId, imageId: 999_999 })).rejects.toThrow(/image 999999/)
    await expect(explain.single({ runId: 999, imageId: imageIds[0] })).rejects.toThrow(
      /no run with id 999/
    )
  }, 120_000)
})
