/**
 * Time of one similarity heat-map pair (feature maps of two images + the exact decomposition)
 * in the explain worker, for a frozen MobileNetV2 run (7×7×1280 `out_relu` maps at 224 px).
 * Builds its own run on 16 Omniglot characters (one epoch) unless --data-dir and --run name an
 * existing one. Reports the first call (model load included) and the median of the next ones.
 * Writes bench/results/explain.json.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { closeContext, createContext } from '../src-main/app/context'
import { importDataset } from '../src-main/datasets/importer'
import { datasetsRepo } from '../src-main/datasets/repo'
import { createExplainService } from '../src-main/services/explain'
import { createRunsService } from '../src-main/services/runs'
import { atEdge } from '../src-main/services/services.testutil'
import { RunsRepo } from '../src-main/runs/repo'

const here = dirname(fileURLToPath(import.meta.url))
const args = process.argv.slice(2)
const arg = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 ? args[i + 1] : undefined
}
const OMNIGLOT = resolve(here, '..', '..', 'shared', 'datasets', 'omniglot-background-small')

async function main(): Promise<void> {
  const own = !arg('data-dir')
  const dataDir = arg('data-dir') ?? mkdtempSync(join(tmpdir(), 'hist-explain-bench-'))
  const ctx = createContext(dataDir, 'cli')
  try {
    let runId = Number(arg('run') ?? 0)
    if (!runId) {
      const root = join(dataDir, 'ds')
      const classes = readdirSync(OMNIGLOT).sort()
      for (const a of ['Greek', 'Latin'])
        for (const c of classes.filter((n) => n.startsWith(`${a}__`)).slice(0, 8)) {
          mkdirSync(join(root, c), { recursive: true })
          for (const f of readdirSync(join(OMNIGLOT, c)))
            copyFileSync(join(OMNIGLOT, c, f), join(root, c, f))
        }
      const { dataset } = await importDataset(ctx, { path: root, format: 'folder' })
      const runs = atEdge('runs', createRunsService(ctx))
      const run = await runs.start({
        datasetId: dataset.id,
        split: { kind: 'group', train: ['Greek'], test: ['Latin'] },
        backbone: { kind: 'mobilenetv2' },
        frozen: true,
        epochs: 1,
        batchSize: 16,
        modelSelection: 'test'
      })
      await runs.waitFor(run.id)
      await runs.shutdown()
      runId = run.id
    }
    const run = new RunsRepo(ctx.db).get(runId)
    if (run.datasetId === null) throw new Error(`run ${runId}'s dataset was removed`)
    const ids = datasetsRepo(ctx.db)
      .images(run.datasetId)
      .slice(0, 22)
      .map((i) => i.id)
    const explain = createExplainService(ctx)
    const wall: number[] = []
    const worker: number[] = []
    for (let i = 0; i + 1 < ids.length; i += 1) {
      const t0 = performance.now()
      const e = await explain.pair({ runId, queryImageId: ids[i], resultImageId: ids[i + 1] })
      wall.push((performance.now() - t0) / 1000)
      worker.push(e.seconds)
    }
    await explain.dispose()
    const rest = wall.slice(1).sort((a, b) => a - b)
    const out = {
      runId,
      backbone: run.config.backbone.kind,
      pairs: wall.length,
      firstPairSec: wall[0],
      medianPairSec: rest[Math.floor(rest.length / 2)],
      maxPairSec: rest[rest.length - 1],
      note: 'wall time of explain.pair from the main thread, worker thread doing the work; machine shared with other jobs'
    }
    process.stdout.write(JSON.stringify(out, null, 2) + '\n')
    mkdirSync(join(here, 'results'), { recursive: true })
    writeFileSync(join(here, 'results', 'explain.json'), JSON.stringify(out, null, 2))
  } finally {
    closeContext(ctx)
    if (own) rmSync(dataDir, { recursive: true, force: true })
  }
}

void main()
