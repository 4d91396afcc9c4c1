/**
 * The runs service: creates runs from a TrainConfig, owns the one-at-a-time queue of trainer
 * processes, exposes pause/resume/stop/remove, the run records, probing and export. The
 * Electron shell, web mode and the CLI all use this same service.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import {
  type TrainConfig,
  type ProbeResult,
  type RunDetail,
  type RunsService,
  type RunStatus,
  type RunSummary
} from '../../src-preload/contract/runs'
import { fromWireError } from '../../src-preload/contract/errors'
import { requireDataset } from '../datasets/queries'
import { datasetsRepo } from '../datasets/repo'
import { evaluateBestCheckpoint } from '../runs/evaluateBest'
import { checkBackbone, checkBalancedBatches } from '../runs/configCheck'
import { exportRunBundle } from '../runs/export'
import { buildJob, buildRunJob, resolveRunSplit } from '../runs/jobs'
import { RunQueue } from '../runs/queue'
import { RunsRepo } from '../runs/repo'
import { launchTrainer, type TrainerClient } from '../runs/trainerClient'
import type { FromTrainer } from '../trainer/protocol'
import type { AppContext } from '../app/context'

/** Options for tests and embedders. */
export interface RunsServiceOptions {
  /** Starts a trainer process (default: the ProcessLauncher's trainer entry). */
  launch?: () => TrainerClient
  /** Milliseconds a trainer gets to honour stop/pause before it is killed. */
  graceMs?: number
  /** Consecutive trainer deaths without progress before a run fails. */
  maxCrashes?: number
  /** Skip recovery of interrupted runs at start (tests that set up state first). */
  noRecover?: boolean
}

/** The runs service plus owner-side helpers for the CLI, the shell and tests. */
export interface RunsServiceImpl extends RunsService {
  /** Resolves when a run is completed, failed, cancelled or paused. */
  waitFor(id: number): Promise<RunStatus>
  /** The run whose trainer is alive in this process. */
  activeRunId(): number | null
  /** OS pid of the active trainer (tests kill it). */
  trainerPid(): number | undefined
  /** Re-queues interrupted runs and starts the queue (done at creation unless noRecover). */
  recover(): number[]
  /** Kills the active trainer; interrupted runs resume at the next start. */
  shutdown(): Promise<void>
  /** The repository (for CLI printing and tests). */
  readonly repo: RunsRepo
}

/** Builds the runs service over an app context and recovers runs interrupted by a crash. */
export function createRunsService(ctx: AppContext, opts: RunsServiceOptions = {}): RunsServiceImpl {
  const repo = new RunsRepo(ctx.db)
  let lastClient: TrainerClient | null = null
  const launch = (): TrainerClient => {
    lastClient = (opts.launch ?? (() => launchTrainer()))()
    return lastClient
  }
  const queue = new RunQueue(ctx, repo, {
    buildJob: (id) => buildRunJob(ctx, repo, id),
    launch,
    graceMs: opts.graceMs,
    maxCrashes: opts.maxCrashes
  })

  const service: RunsServiceImpl = {
    repo,
    async list(q): Promise<RunSummary[]> {
      return repo.list(q)
    },
    async annotate({ id, tags, note }): Promise<RunSummary> {
      return repo.annotate(id, { tags, note })
    },
    async get({ id }): Promise<RunDetail> {
      return repo.detail(id)
    },
    async start(input): Promise<RunSummary> {
      let config = input
      checkBackbone(config)
      const dataset = requireDataset(datasetsRepo(ctx.db), config.datasetId)
      const { split, warning } = resolveRunSplit(ctx, dataset.id, config.split)
      config = { ...config, split }
      checkBalancedBatches(ctx, config)
      const id = repo.create({
        name: config.name ?? null,
        datasetId: dataset.id,
        datasetName: dataset.name,
        config,
        appVersion: ctx.appVersion
      })
      if (warning)
        ctx.events.emit({ type: 'run.log', runId: id, entry: repo.log(id, 'warn', warning) })
      if (config.modelSelection === 'test') {
        const entry = repo.log(
          id,
          'warn',
          'Model selection on the TEST split (as the official code does): the reported test metrics are optimistic. Use modelSelection "refit" (the default) for an honest estimate.'
        )
        ctx.events.emit({ type: 'run.log', runId: id, entry })
      }
      queue.enqueue(id)
      return repo.get(id)
    },
    async pause({ id }): Promise<void> {
      queue.pause(id)
    },
    async resume({ id }): Promise<void> {
      queue.resume(id)
    },
    async retry({ id }): Promise<void> {
      queue.retry(id)
    },
    async stop({ id }): Promise<void> {
      await queue.stop(id)
    },
    async remove({ id }): Promise<void> {
      repo.get(id) // throws a clear error for an unknown id
      if (queue.activeRunId() === id) await queue.stop(id)
      const dir = repo.resumeState(id).dir ?? join(ctx.paths.runs, String(id))
      repo.remove(id)
      rmSync(dir, { recursive: true, force: true })
      ctx.events.emit({ type: 'runs.changed' })
    },
    async probe(input): Promise<ProbeResult> {
      let config = input
      checkBackbone(config)
      const dataset = requireDataset(datasetsRepo(ctx.db), config.datasetId)
      config = { ...config, split: resolveRunSplit(ctx, dataset.id, config.split).split }
      return probeWithTrainer(ctx, config, launch)
    },
    async exportRun({ id, outDir, format }): Promise<{ path: string; files?: string[] }> {
      if (format === 'tfjs') {
        repo.get(id)
        // Loaded on demand, like inference: it pulls in TensorFlow.js.
        const { exportRunModel } = await import('../runs/modelExport')
        const res = await exportRunModel(ctx, id, outDir)
        return { path: res.dir, files: res.files }
      }
      return { path: exportRunBundle(ctx, repo, id, outDir) }
    },
    async evaluateBest({ id }): Promise<RunSummary> {
      if (queue.activeRunId() === id)
        throw new Error(`run ${id} is training; stop it before evaluating its best checkpoint`)
      await evaluateBestCheckpoint(ctx, repo, id)
      ctx.events.emit({ type: 'runs.changed' })
      return repo.get(id)
    },
    waitFor: (id) => queue.waitFor(id),
    activeRunId: () => queue.activeRunId(),
    trainerPid: () => (queue.activeRunId() !== null ? lastClient?.pid : undefined),
    recover: () => queue.recover(),
    shutdown: () => queue.shutdown()
  }
  if (!opts.noRecover) queue.recover()
  return service
}

/** Runs a probe job in a short-lived trainer process (run id 0: nothing is stored). */
async function probeWithTrainer(
  ctx: AppContext,
  config: TrainConfig,
  launch: () => TrainerClient
): Promise<ProbeResult> {
  const dir = mkdtempSync(join(ctx.paths.cache, 'probe-'))
  try {
    const job = buildJob(ctx, {
      runId: 0,
      config,
      runDir: dir,
      checkpoint: null,
      hasBaseline: true
    })
    const client = launch()
    try {
      return await new Promise<ProbeResult>((resolve, reject) => {
        client.onMessage((m: FromTrainer) => {
          if (m.type === 'probeResult') resolve(m.result)
          else if (m.type === 'failed') reject(fromWireError({ ...m, code: m.code ?? 'internal' }))
        })
        client.onInvalid(reject)
        client.onExit((code) =>
          reject(new Error(`the probe's trainer exited (${code ?? 'killed'}) before answering`))
        )
        client.send({ type: 'probe', job })
      })
    } finally {
      client.kill()
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
