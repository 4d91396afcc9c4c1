/**
 * Training benchmark (npm run bench:train): runs the README's main job (the demo preset on the
 * built-in Fashion-MNIST demo) through the runs service, exactly as `npm run demo` does, with
 * the trainer in its own process. Measures:
 *   - the owner's event-loop delay during the run (perf_hooks.monitorEventLoopDelay), which is
 *     what keeps the UI responsive; for contrast, the same delay while a short training runs
 *     in-process (--no-contrast skips it);
 *   - the job's wall time (fresh data folder: demo files, training, test), and a second run of
 *     the same config (same seed: it must reproduce the first run's metrics exactly);
 *   - Recall@K before (untrained) and after training.
 * Writes bench/results/train.json. Options: --preset <name> (default demo), --epochs N,
 * --backbone mobilenetv2|small-cnn, --frozen|--fine-tune, --keep (keep the data folder).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import type { TrainConfigInput } from '../src-preload/contract/runs'
import { ensureDemo } from '../src-main/datasets/demo'
import { applyTrainPreset, isPresetName } from '../src-preload/contract/presets'
import { buildJob } from '../src-main/runs/jobs'
import { closeContext, createContext } from '../src-main/app/context'
import { createRunsService } from '../src-main/services/runs'
import { atEdge } from '../src-main/services/services.testutil'
import type { FromTrainer } from '../src-main/trainer/protocol'

const here = dirname(fileURLToPath(import.meta.url))
const args = process.argv.slice(2)
const arg = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 ? args[i + 1] : undefined
}
const flag = (name: string): boolean => args.includes(`--${name}`)

interface LoopDelay {
  meanMs: number
  p50Ms: number
  p99Ms: number
  maxMs: number
}

function delayStats(h: ReturnType<typeof monitorEventLoopDelay>): LoopDelay {
  const ms = (ns: number): number => Math.round((ns / 1e6) * 100) / 100
  return {
    meanMs: ms(h.mean),
    p50Ms: ms(h.percentile(50)),
    p99Ms: ms(h.percentile(99)),
    maxMs: ms(h.max)
  }
}

async function main(): Promise<void> {
  const preset = arg('preset') ?? 'demo'
  if (!isPresetName(preset)) throw new Error(`unknown preset ${preset}`)
  const dataDir = mkdtempSync(join(tmpdir(), 'hist-train-bench-'))
  const ctx = createContext(dataDir, 'cli')
  const results: Record<string, unknown> = { preset, dataDir }
  try {
    const t0 = performance.now()
    const demo = await ensureDemo(ctx)
    const demoSeconds = (performance.now() - t0) / 1000
    const over: Partial<TrainConfigInput> = { datasetId: demo.id }
    if (arg('epochs')) over.epochs = Number(arg('epochs'))
    if (arg('backbone'))
      over.backbone =
        arg('backbone') === 'small-cnn'
          ? { kind: 'small-cnn', inputSize: 32 }
          : { kind: 'mobilenetv2' }
    if (flag('fine-tune')) over.frozen = false
    if (flag('frozen')) over.frozen = true
    const input = applyTrainPreset(preset, over) as TrainConfigInput

    const service = atEdge('runs', createRunsService(ctx))
    const runOnce = async (label: string): Promise<Record<string, unknown>> => {
      const h = monitorEventLoopDelay({ resolution: 10 })
      const start = performance.now()
      h.enable()
      let progressEvents = 0
      const off = ctx.events.on((e) => {
        if (e.type === 'run.progress') progressEvents++
      })
      const run = await service.start(input)
      const status = await service.waitFor(run.id)
      h.disable()
      off()
      const seconds = (performance.now() - start) / 1000
      const r = service.repo.get(run.id)
      process.stderr.write(
        `${label}: ${status} in ${seconds.toFixed(1)} s; R@1 ${r.baselineMetrics?.recall['1']} → ${r.testMetrics?.recall['1']}\n`
      )
      return {
        runId: run.id,
        status,
        wallSeconds: Math.round(seconds * 10) / 10,
        backend: r.backend,
        config: r.config,
        baselineMetrics: r.baselineMetrics,
        testMetrics: r.testMetrics,
        bestEpoch: r.bestEpoch,
        bestMetrics: r.bestMetrics,
        epochs: service.repo.epochs(run.id).map((e) => ({
          epoch: e.epoch,
          r1: e.metrics.recall['1'],
          seconds: e.seconds,
          imagesPerSec: Math.round(e.imagesPerSec)
        })),
        progressEventsPerSec: Math.round((progressEvents / seconds) * 10) / 10,
        ownerEventLoopDelay: delayStats(h)
      }
    }
    results.demoDatasetSeconds = Math.round(demoSeconds * 10) / 10
    results.firstRun = await runOnce('first run')
    results.secondRun = await runOnce('second run (same seed)')
    const first = results.firstRun as { wallSeconds: number; testMetrics: unknown }
    results.reproducible =
      JSON.stringify(first.testMetrics) ===
      JSON.stringify((results.secondRun as { testMetrics: unknown }).testMetrics)
    results.mainJobWallSeconds = Math.round((demoSeconds + first.wallSeconds) * 10) / 10
    await service.shutdown()

    if (!flag('no-contrast')) {
      // The same pipeline in the owner's own process, for contrast: what the UI would suffer.
      const { runTraining } = await import('../src-main/trainer/pipeline')
      const id = service.repo.create({
        name: 'in-process contrast',
        datasetId: demo.id,
        datasetName: demo.name,
        config: (await service.get({ id: (results.firstRun as { runId: number }).runId })).config,
        appVersion: ctx.appVersion
      })
      const job = buildJob(ctx, {
        runId: id,
        config: { ...service.repo.get(id).config, epochs: 3 },
        runDir: join(dataDir, 'contrast'),
        checkpoint: null,
        hasBaseline: false
      })
      const h = monitorEventLoopDelay({ resolution: 10 })
      h.enable()
      const start = performance.now()
      await runTraining(job, (_m: FromTrainer) => undefined, {
        signal: new AbortController().signal,
        pauseRequested: () => false
      })
      h.disable()
      results.inProcessContrast = {
        epochs: 3,
        wallSeconds: Math.round((performance.now() - start) / 100) / 10,
        ownerEventLoopDelay: delayStats(h)
      }
      service.repo.remove(id)
    }
  } finally {
    closeContext(ctx)
    if (!flag('keep')) rmSync(dataDir, { recursive: true, force: true })
  }
  mkdirSync(join(here, 'results'), { recursive: true })
  writeFileSync(join(here, 'results', 'train.json'), JSON.stringify(results, null, 2) + '\n')
  process.stdout.write(JSON.stringify(results, null, 2) + '\n')
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`)
  process.exit(1)
})
