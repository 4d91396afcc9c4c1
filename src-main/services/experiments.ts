/**
 * The experiments service: sweeps and ablation sets queue ordinary runs through the runs
 * service (the normal one-at-a-time queue), and are stored as an entity that links its points
 * to those runs; the results table reads the best run of each loss on a dataset.
 */
import {
  type AblationVariant,
  type ExperimentDetail,
  type ExperimentPoint,
  type ExperimentsService,
  type ExperimentSummary,
  type ResultsTable,
  type SweepAxis
} from '../../src-preload/contract/experiments'
import { TrainConfig, type RunSummary } from '../../src-preload/contract/runs'
import { InvalidError } from '../../src-preload/contract/errors'
import type { AppContext } from '../app/context'
import { requireDataset } from '../datasets/queries'
import { datasetsRepo } from '../datasets/repo'
import { aggregateStatus, planAblation, planSweep, type PlannedPoint } from '../experiments/plan'
import { ExperimentsRepo, type StoredExperiment } from '../experiments/repo'
import { buildResultsTable } from '../experiments/resultsTable'
import type { RunsServiceImpl } from './runs'

const ENDED = new Set(['completed', 'failed', 'cancelled', 'removed'])

/** The experiments service plus its repository (for the CLI and tests). */
export interface ExperimentsServiceImpl extends ExperimentsService {
  readonly repo: ExperimentsRepo
}

/** Builds the experiments service over the app's runs service. */
export function createExperimentsService(
  ctx: AppContext,
  runs: RunsServiceImpl
): ExperimentsServiceImpl {
  const repo = new ExperimentsRepo(ctx.db)

  const pointOf = (p: ReturnType<ExperimentsRepo['points']>[number]): ExperimentPoint => {
    const run: RunSummary | null = p.runId === null ? null : runs.repo.find(p.runId)
    return {
      ordinal: p.ordinal,
      label: p.label,
      values: p.values,
      variant: p.variant,
      runId: run ? run.id : null,
      status: run ? run.status : 'removed',
      epochsDone: run?.epochsDone ?? 0,
      epochs: run?.config.epochs ?? 0,
      baselineMetrics: run?.baselineMetrics ?? null,
      testMetrics: run?.testMetrics ?? null
    }
  }

  const detail = (e: StoredExperiment): ExperimentDetail => {
    const points = repo.points(e.id).map(pointOf)
    const summary: ExperimentSummary = {
      id: e.id,
      kind: e.kind,
      name: e.name,
      datasetId: e.datasetId,
      datasetName: e.datasetName,
      axes: e.axes,
      status: aggregateStatus(points.map((p) => p.status)),
      done: points.filter((p) => ENDED.has(p.status)).length,
      total: points.length,
      createdAt: e.createdAt
    }
    return { ...summary, base: e.base, points }
  }

  /** Validates every point's config first (nothing is queued if one is bad), then stores and queues. */
  async function create(
    kind: 'sweep' | 'ablation',
    base: TrainConfig,
    axes: SweepAxis[],
    name: string,
    planned: PlannedPoint[]
  ): Promise<ExperimentDetail> {
    const dataset = requireDataset(datasetsRepo(ctx.db), base.datasetId)
    // The points' configs are derived here, not sent by a caller: they are validated here.
    const configs = planned.map((p) => {
      const r = TrainConfig.safeParse(p.config)
      if (!r.success)
        throw new InvalidError(
          `${p.label}: invalid config: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`
        )
      return r.data
    })
    const id = repo.create(
      { kind, name, datasetId: dataset.id, datasetName: dataset.name, base, axes },
      planned.map((p) => ({ label: p.label, values: p.values, variant: p.variant, runId: null }))
    )
    for (const [ordinal, config] of configs.entries()) {
      const run = await runs.start(config)
      repo.setRun(id, ordinal, run.id)
    }
    ctx.events.emit({ type: 'runs.changed' })
    return detail(repo.get(id))
  }

  return {
    repo,
    async list(): Promise<ExperimentSummary[]> {
      return repo.list().map((e) => {
        const { base: _base, points: _points, ...summary } = detail(e)
        return summary
      })
    },
    async get({ id }): Promise<ExperimentDetail> {
      return detail(repo.get(id))
    },
    async createSweep(p): Promise<ExperimentDetail> {
      const { base, axes, name } = p
      const title = name ?? `sweep ${axes.map((a) => a.param).join(' × ')}`
      return create('sweep', base, axes, title, planSweep(base, axes, title))
    },
    async createAblation(p): Promise<ExperimentDetail> {
      const { base, variants, name } = p
      const title = name ?? 'ablation set'
      return create(
        'ablation',
        base,
        [],
        title,
        planAblation(base, variants as AblationVariant[] | undefined, title)
      )
    },
    async cancel({ id }): Promise<void> {
      const points = repo.points(repo.get(id).id)
      // Queued runs first, so the queue does not start one while the active run stops.
      const live = points
        .map((p) => (p.runId === null ? null : runs.repo.find(p.runId)))
        .filter((r): r is RunSummary => !!r && !ENDED.has(r.status))
        .sort((a, b) => Number(a.status === 'running') - Number(b.status === 'running'))
      for (const r of live) await runs.stop({ id: r.id }).catch(() => undefined)
    },
    async remove({ id }): Promise<void> {
      repo.get(id)
      repo.remove(id)
    },
    async resultsTable({ datasetId }): Promise<ResultsTable> {
      const dataset = requireDataset(datasetsRepo(ctx.db), datasetId)
      return buildResultsTable(dataset.id, dataset.name, runs.repo.list())
    }
  }
}
