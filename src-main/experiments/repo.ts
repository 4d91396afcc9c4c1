/**
 * The experiments tables behind prepared statements. An experiment stores its base config, its
 * swept axes and one row per point; the point's run is an ordinary row of `runs`, so status and
 * metrics are always read from there (never copied).
 */
import type {
  AblationVariant,
  ExperimentKind,
  SweepAxis,
  SweepParam
} from '../../src-preload/contract/experiments'
import type { TrainConfig } from '../../src-preload/contract/runs'
import { NotFoundError } from '../../src-preload/contract/errors'
import type { Db } from '../db'

interface ExperimentRow {
  id: number
  kind: ExperimentKind
  name: string
  dataset_id: number | null
  dataset_name: string
  base_config: string
  axes: string
  created_at: string
}

interface PointRow {
  ordinal: number
  label: string
  point_values: string
  variant: AblationVariant | null
  run_id: number | null
}

/** An experiment as stored. */
export interface StoredExperiment {
  id: number
  kind: ExperimentKind
  name: string
  datasetId: number
  datasetName: string
  base: TrainConfig
  axes: SweepAxis[]
  createdAt: string
}

/** One stored point. */
export interface StoredPoint {
  ordinal: number
  label: string
  values: Partial<Record<SweepParam, number>>
  variant: AblationVariant | null
  runId: number | null
}

/** A point to create, with its run already queued. */
export type NewPoint = Omit<StoredPoint, 'ordinal'>

const toExperiment = (r: ExperimentRow): StoredExperiment => ({
  id: r.id,
  kind: r.kind,
  name: r.name,
  datasetId: r.dataset_id ?? 0,
  datasetName: r.dataset_name,
  base: JSON.parse(r.base_config) as TrainConfig,
  axes: JSON.parse(r.axes) as SweepAxis[],
  createdAt: r.created_at
})

/** Prepared statements over `experiments` and `experiment_points`. */
export class ExperimentsRepo {
  private readonly s

  constructor(private readonly db: Db) {
    this.s = {
      insert: db.prepare(
        `INSERT INTO experiments (kind, name, dataset_id, dataset_name, base_config, axes)
         VALUES (@kind, @name, @datasetId, @datasetName, @base, @axes)`
      ),
      insertPoint: db.prepare(
        `INSERT INTO experiment_points (experiment_id, ordinal, label, point_values, variant, run_id)
         VALUES (@experimentId, @ordinal, @label, @values, @variant, @runId)`
      ),
      setRun: db.prepare(
        'UPDATE experiment_points SET run_id = ? WHERE experiment_id = ? AND ordinal = ?'
      ),
      get: db.prepare('SELECT * FROM experiments WHERE id = ?'),
      list: db.prepare('SELECT * FROM experiments ORDER BY id DESC'),
      points: db.prepare(
        'SELECT * FROM experiment_points WHERE experiment_id = ? ORDER BY ordinal'
      ),
      remove: db.prepare('DELETE FROM experiments WHERE id = ?')
    }
  }

  /** Stores an experiment and its points in one transaction; returns its id. */
  create(e: Omit<StoredExperiment, 'id' | 'createdAt'>, points: NewPoint[]): number {
    return this.db.transaction(() => {
      const id = Number(
        this.s.insert.run({
          kind: e.kind,
          name: e.name,
          datasetId: e.datasetId,
          datasetName: e.datasetName,
          base: JSON.stringify(e.base),
          axes: JSON.stringify(e.axes)
        }).lastInsertRowid
      )
      points.forEach((p, ordinal) =>
        this.s.insertPoint.run({
          experimentId: id,
          ordinal,
          label: p.label,
          values: JSON.stringify(p.values),
          variant: p.variant,
          runId: p.runId
        })
      )
      return id
    })()
  }

  /** Links a point to its (queued) run. */
  setRun(experimentId: number, ordinal: number, runId: number): void {
    this.s.setRun.run(runId, experimentId, ordinal)
  }

  find(id: number): StoredExperiment | null {
    const r = this.s.get.get(id) as ExperimentRow | undefined
    return r ? toExperiment(r) : null
  }

  /** The experiment; throws a clear error for an unknown id. */
  get(id: number): StoredExperiment {
    const e = this.find(id)
    if (!e) throw new NotFoundError(`no experiment with id ${id}`)
    return e
  }

  /** Every experiment, newest first. */
  list(): StoredExperiment[] {
    return (this.s.list.all() as ExperimentRow[]).map(toExperiment)
  }

  points(id: number): StoredPoint[] {
    return (this.s.points.all(id) as PointRow[]).map((r) => ({
      ordinal: r.ordinal,
      label: r.label,
      values: JSON.parse(r.point_values) as Partial<Record<SweepParam, number>>,
      variant: r.variant,
      runId: r.run_id
    }))
  }

  remove(id: number): void {
    this.s.remove.run(id)
  }
}
