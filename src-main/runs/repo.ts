/**
 * The runs tables behind prepared statements. The main process is the only writer of these
 * tables: the trainer process sends plain-data records and this repository commits them, each
 * logical change (an epoch, a pause, the final result) in one transaction.
 */
import type { Metrics } from '../../src-preload/contract/common'
import type {
  EpochRecord,
  RunDetail,
  RunLogEntry,
  RunStatus,
  RunSummary,
  StepRecord,
  RunsListQuery,
  TrainConfig
} from '../../src-preload/contract/runs'
import { ListStatements } from './listRepo'
import type { Db } from '../db'
import { NotFoundError } from '../../src-preload/contract/errors'
import { labelled, selectionSplit, toSummary, type RunRow } from './summary'

/** The resume state of a run: where its checkpoints are and how far it got. */
export interface RunResumeState {
  dir: string | null
  checkpoint: string | null
  bestCheckpoint: string | null
  /** The checkpoint before `checkpoint`, kept until the next one is verified (fallback). */
  prevCheckpoint: string | null
  checkpointStep: number
  epochsDone: number
  hasBaseline: boolean
  ownerPid: number | null
  crashCount: number
  startedAt: string | null
}

/** One row of run_queries. */
export interface QueryRecord {
  imageId: number
  ap: number
  correctAt1: boolean
}

/** The best epoch so far, as the trainer reports it with an epoch. */
export interface BestRecord {
  epoch: number
  metrics: Metrics
  checkpoint: string
}

const now = (): string => new Date().toISOString()

/** Prepared-statement access to runs, run_steps, run_epochs, run_log, run_gallery, run_queries. */
export class RunsRepo {
  private s
  private listQueries: ListStatements

  constructor(private db: Db) {
    this.listQueries = new ListStatements(db)
    this.s = {
      annotate: db.prepare(
        'UPDATE runs SET tags = COALESCE(@tags, tags), note = COALESCE(@note, note) WHERE id = @id'
      ),
      insert: db.prepare(
        `INSERT INTO runs (name, status, dataset_id, dataset_name, config, backend, app_version)
         VALUES (@name, 'queued', @datasetId, @datasetName, @config, @backend, @appVersion)`
      ),
      get: db.prepare('SELECT * FROM runs WHERE id = ?'),
      list: db.prepare('SELECT * FROM runs ORDER BY id DESC'),
      byStatus: db.prepare('SELECT * FROM runs WHERE status = ? ORDER BY id'),
      setDir: db.prepare('UPDATE runs SET dir = ? WHERE id = ?'),
      setName: db.prepare('UPDATE runs SET name = ? WHERE id = ?'),
      setStatus: db.prepare('UPDATE runs SET status = @status, message = @message WHERE id = @id'),
      claim: db.prepare(
        `UPDATE runs SET status = 'running', message = NULL, owner_pid = @pid,
         started_at = COALESCE(started_at, @time) WHERE id = @id AND status = 'queued'`
      ),
      setFinished: db.prepare(
        'UPDATE runs SET status = @status, message = @message, finished_at = @time, owner_pid = NULL WHERE id = @id'
      ),
      setOwner: db.prepare('UPDATE runs SET owner_pid = ? WHERE id = ?'),
      setBackend: db.prepare('UPDATE runs SET backend = ? WHERE id = ?'),
      setBaseline: db.prepare(
        'UPDATE runs SET baseline_metrics = ?, raw_metrics = COALESCE(?, raw_metrics) WHERE id = ?'
      ),
      crash: db.prepare('UPDATE runs SET crash_count = crash_count + 1 WHERE id = ?'),
      insertStep: db.prepare(
        `INSERT OR REPLACE INTO run_steps (run_id, step, epoch, loss, lds, ce, lr)
         VALUES (@runId, @step, @epoch, @loss, @lds, @ce, @lr)`
      ),
      steps: db.prepare(
        'SELECT step, epoch, loss, lds, ce, lr FROM run_steps WHERE run_id = ? ORDER BY step'
      ),
      insertEpoch: db.prepare(
        `INSERT OR REPLACE INTO run_epochs (run_id, epoch, metrics, seconds, images_per_sec)
         VALUES (?, ?, ?, ?, ?)`
      ),
      epochs: db.prepare(
        'SELECT epoch, metrics, seconds, images_per_sec FROM run_epochs WHERE run_id = ? ORDER BY epoch'
      ),
      // The checkpoint it replaces stays as prev_checkpoint (the fallback if this one is damaged).
      epochDone: db.prepare(
        `UPDATE runs SET epochs_done = @epoch, prev_checkpoint = CASE WHEN checkpoint IS NULL OR
         checkpoint = @checkpoint THEN prev_checkpoint ELSE checkpoint END,
         checkpoint = @checkpoint, checkpoint_step = @step, crash_count = 0 WHERE id = @id`
      ),
      best: db.prepare(
        'UPDATE runs SET best_epoch = @epoch, best_metrics = @metrics, best_checkpoint = @checkpoint WHERE id = @id'
      ),
      pause: db.prepare(
        `UPDATE runs SET status = 'paused', message = @message, prev_checkpoint = CASE WHEN
         @checkpoint IS NULL OR checkpoint IS NULL OR checkpoint = @checkpoint THEN prev_checkpoint
         ELSE checkpoint END, checkpoint = COALESCE(@checkpoint, checkpoint),
         checkpoint_step = CASE WHEN @checkpoint IS NULL THEN checkpoint_step ELSE @step END,
         owner_pid = NULL WHERE id = @id`
      ),
      log: db.prepare('INSERT INTO run_log (run_id, time, level, message) VALUES (?, ?, ?, ?)'),
      logs: db.prepare('SELECT time, level, message FROM run_log WHERE run_id = ? ORDER BY id'),
      dropStepsFrom: db.prepare('DELETE FROM run_steps WHERE run_id = ? AND step >= ?'),
      dropEpochsAfter: db.prepare('DELETE FROM run_epochs WHERE run_id = ? AND epoch > ?'),
      clearGallery: db.prepare('DELETE FROM run_gallery WHERE run_id = ?'),
      insertGallery: db.prepare('INSERT INTO run_gallery (run_id, idx, image_id) VALUES (?, ?, ?)'),
      gallery: db.prepare('SELECT image_id FROM run_gallery WHERE run_id = ? ORDER BY idx'),
      clearQueries: db.prepare('DELETE FROM run_queries WHERE run_id = ?'),
      insertQuery: db.prepare(
        'INSERT INTO run_queries (run_id, image_id, ap, correct_at1) VALUES (?, ?, ?, ?)'
      ),
      queries: db.prepare(
        'SELECT image_id, ap, correct_at1 FROM run_queries WHERE run_id = ? ORDER BY image_id'
      ),
      testMetrics: db.prepare('UPDATE runs SET test_metrics = ?, test_from = ? WHERE id = ?'),
      setModel: db.prepare('UPDATE runs SET best_checkpoint = ? WHERE id = ?'),
      remove: db.prepare('DELETE FROM runs WHERE id = ?')
    }
  }

  /** Inserts a queued run with its config snapshot and returns its id. */
  create(p: {
    name: string | null
    datasetId: number | null
    datasetName: string
    config: TrainConfig
    appVersion: string
    backend?: string
  }): number {
    const info = this.s.insert.run({
      name: p.name ?? '',
      datasetId: p.datasetId,
      datasetName: p.datasetName,
      config: JSON.stringify(p.config),
      backend: p.backend ?? '',
      appVersion: p.appVersion
    })
    const id = Number(info.lastInsertRowid)
    if (!p.name) this.s.setName.run(`${p.config.loss} on ${p.datasetName} #${id}`, id)
    return id
  }

  /** The run's summary, or null when there is no such run. */
  find(id: number): RunSummary | null {
    const r = this.s.get.get(id) as RunRow | undefined
    return r ? toSummary(r) : null
  }

  /** The run's summary; throws a clear error for an unknown id. */
  get(id: number): RunSummary {
    const r = this.find(id)
    if (!r) throw new NotFoundError(`no run with id ${id}`)
    return r
  }

  /** Every run, newest first. */
  list(q?: RunsListQuery): RunSummary[] {
    const rows = q ? this.listQueries.all(q) : this.s.list.all()
    return (rows as RunRow[]).map(toSummary)
  }

  /** Sets tags and/or note (undefined leaves a field as it is); the updated run. */
  annotate(id: number, p: { tags?: string[]; note?: string }): RunSummary {
    const info = this.s.annotate.run({
      id,
      tags: p.tags === undefined ? null : JSON.stringify(p.tags),
      note: p.note ?? null
    })
    if (info.changes === 0) throw new NotFoundError(`run ${id} not found`)
    return this.get(id)
  }

  /** Runs with the given status, oldest first (the queue order). */
  withStatus(status: RunStatus): RunSummary[] {
    return (this.s.byStatus.all(status) as RunRow[]).map(toSummary)
  }

  /** Summary plus every step, epoch and log record. */
  detail(id: number): RunDetail {
    const summary = this.get(id)
    const steps = this.steps(id)
    const epochs = this.epochs(id)
    const log = this.s.logs.all(id) as RunLogEntry[]
    return { ...summary, steps, epochs, log }
  }

  /** Every step record of a run, in order. */
  steps(id: number): StepRecord[] {
    return this.s.steps.all(id) as StepRecord[]
  }

  /** Every epoch record of a run, in order (metrics labelled with the selection split). */
  epochs(id: number): EpochRecord[] {
    const row = this.s.get.get(id) as RunRow | undefined
    const split = row ? selectionSplit(JSON.parse(row.config) as TrainConfig) : 'validation'
    return (
      this.s.epochs.all(id) as {
        epoch: number
        metrics: string
        seconds: number
        images_per_sec: number
      }[]
    ).map((e) => ({
      epoch: e.epoch,
      metrics: labelled(e.metrics, split)!,
      seconds: e.seconds,
      imagesPerSec: e.images_per_sec
    }))
  }

  /** The class of each gallery image of a run (image id → class id), from the images table. */
  galleryClassOf(id: number): Map<number, number> {
    const rows = this.db
      .prepare(
        'SELECT g.image_id AS id, i.class_id AS c FROM run_gallery g JOIN images i ON i.id = g.image_id WHERE g.run_id = ?'
      )
      .all(id) as { id: number; c: number }[]
    return new Map(rows.map((r) => [r.id, r.c]))
  }

  /** The gallery rows of a run in gallery order, with each image's class name and path. */
  galleryRows(id: number): { idx: number; imageId: number; className: string; relPath: string }[] {
    return this.db
      .prepare(
        `SELECT g.idx AS idx, g.image_id AS imageId, COALESCE(c.name, '') AS className, COALESCE(i.rel_path, '') AS relPath
         FROM run_gallery g LEFT JOIN images i ON i.id = g.image_id LEFT JOIN classes c ON c.id = i.class_id
         WHERE g.run_id = ? ORDER BY g.idx`
      )
      .all(id) as { idx: number; imageId: number; className: string; relPath: string }[]
  }

  /** The resume-related columns of a run. */
  resumeState(id: number): RunResumeState {
    const r = this.s.get.get(id) as RunRow | undefined
    if (!r) throw new NotFoundError(`no run with id ${id}`)
    return {
      dir: r.dir,
      checkpoint: r.checkpoint,
      bestCheckpoint: r.best_checkpoint,
      prevCheckpoint: r.prev_checkpoint,
      checkpointStep: r.checkpoint_step,
      epochsDone: r.epochs_done,
      hasBaseline: r.baseline_metrics !== null,
      ownerPid: r.owner_pid,
      crashCount: r.crash_count,
      startedAt: r.started_at
    }
  }

  /** Records the run's folder. */
  setDir(id: number, dir: string): void {
    this.s.setDir.run(dir, id)
  }

  /** Sets status and message (null clears the message). */
  setStatus(id: number, status: RunStatus, message: string | null = null): void {
    this.s.setStatus.run({ id, status, message })
  }

  /**
   * Marks a queued run running, owned by process `pid`; false when it was not queued any more
   * (another process claimed it first), which makes the claim safe across processes.
   */
  claim(id: number, pid: number): boolean {
    return this.s.claim.run({ id, pid, time: now() }).changes === 1
  }

  /** Ends the run (completed, failed or cancelled) with a finish time. */
  markFinished(id: number, status: RunStatus, message: string | null): void {
    this.s.setFinished.run({ id, status, message, time: now() })
  }

  /** Claims (or releases, with null) a queued/running run for a process. */
  setOwner(id: number, pid: number | null): void {
    this.s.setOwner.run(pid, id)
  }

  /** Records the TensorFlow.js backend the trainer runs on. */
  setBackend(id: number, backend: string): void {
    this.s.setBackend.run(backend, id)
  }

  /** Stores the test metrics of the untrained model (and of the raw backbone features). */
  setBaseline(id: number, metrics: Metrics, raw?: Metrics): void {
    this.s.setBaseline.run(JSON.stringify(metrics), raw ? JSON.stringify(raw) : null, id)
  }

  /** Counts one unexpected trainer death; returns the new count. */
  countCrash(id: number): number {
    this.s.crash.run(id)
    return (this.s.get.get(id) as RunRow).crash_count
  }

  /** Appends a log line and returns it as stored. */
  log(id: number, level: RunLogEntry['level'], message: string): RunLogEntry {
    const entry: RunLogEntry = { time: now(), level, message }
    this.s.log.run(id, entry.time, level, message)
    return entry
  }

  /** Stores a batch of step records in one transaction. */
  addSteps(id: number, steps: StepRecord[]): void {
    this.db.transaction(() => {
      for (const st of steps) this.s.insertStep.run({ runId: id, ...st })
    })()
  }

  /**
   * Commits a finished epoch: its record, the checkpoint it left, epochs_done and (if it is the
   * new best) the best pointer, all in one transaction. The checkpoint file is already in place
   * (written to a temporary name and renamed), so the row never points at a half-written file.
   */
  commitEpoch(
    id: number,
    p: { record: EpochRecord; checkpoint: string; step: number; best: BestRecord | null }
  ): void {
    this.db.transaction(() => {
      const r = p.record
      this.s.insertEpoch.run(id, r.epoch, JSON.stringify(r.metrics), r.seconds, r.imagesPerSec)
      this.s.epochDone.run({ id, epoch: r.epoch, checkpoint: p.checkpoint, step: p.step })
      if (p.best) {
        this.s.best.run({
          id,
          epoch: p.best.epoch,
          metrics: JSON.stringify(p.best.metrics),
          checkpoint: p.best.checkpoint
        })
      }
    })()
  }

  /** Commits a pause: the mid-epoch checkpoint (if any) and the paused status together. */
  commitPause(
    id: number,
    p: { checkpoint: string | null; step: number; message: string | null }
  ): void {
    this.s.pause.run({ id, checkpoint: p.checkpoint, step: p.step, message: p.message })
  }

  /**
   * Forgets records made after the checkpoint a run resumes from: the steps of a partly done
   * epoch (a kill or crash) and any epoch the checkpoint does not include.
   */
  rewindToCheckpoint(id: number): void {
    const st = this.resumeState(id)
    this.db.transaction(() => {
      this.s.dropStepsFrom.run(id, st.checkpointStep)
      this.s.dropEpochsAfter.run(id, st.epochsDone)
    })()
  }

  /**
   * Commits a test evaluation: test metrics, gallery ids and per-query results; the final one
   * also completes the run, a stopped run's best checkpoint (`from`) keeps its status.
   */
  commitResult(
    id: number,
    p: {
      testMetrics: Metrics
      galleryImageIds: number[]
      queries: QueryRecord[]
      message?: string | null
      from?: 'final' | 'best-checkpoint'
      /** The final model's checkpoint (the refit model): retrieval loads it from now on. */
      modelCheckpoint?: string
    }
  ): void {
    const from = p.from ?? 'final'
    this.db.transaction(() => {
      if (p.modelCheckpoint) this.s.setModel.run(p.modelCheckpoint, id)
      this.s.testMetrics.run(JSON.stringify(p.testMetrics), from, id)
      this.s.clearGallery.run(id)
      p.galleryImageIds.forEach((imageId, idx) => this.s.insertGallery.run(id, idx, imageId))
      this.s.clearQueries.run(id)
      for (const q of p.queries) this.s.insertQuery.run(id, q.imageId, q.ap, q.correctAt1 ? 1 : 0)
      if (from === 'final')
        this.s.setFinished.run({ id, status: 'completed', message: p.message ?? null, time: now() })
    })()
  }

  /** Image ids of the gallery rows, in row order. */
  galleryImageIds(id: number): number[] {
    return (this.s.gallery.all(id) as { image_id: number }[]).map((r) => r.image_id)
  }

  /** Per-query results of the final evaluation. */
  queries(id: number): QueryRecord[] {
    return (this.s.queries.all(id) as { image_id: number; ap: number; correct_at1: number }[]).map(
      (q) => ({
        imageId: q.image_id,
        ap: q.ap,
        correctAt1: q.correct_at1 === 1
      })
    )
  }

  /** Deletes the run and (by cascade) all its records. */
  remove(id: number): void {
    this.s.remove.run(id)
  }

  /** Runs the given function in one transaction (for imports that touch several tables). */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)()
  }

  /** Raw insert of a finished run's records, used by bundle import. */
  importRecords(
    id: number,
    p: { steps: StepRecord[]; epochs: EpochRecord[]; log: RunLogEntry[] }
  ): void {
    for (const st of p.steps) this.s.insertStep.run({ runId: id, ...st })
    for (const r of p.epochs)
      this.s.insertEpoch.run(id, r.epoch, JSON.stringify(r.metrics), r.seconds, r.imagesPerSec)
    for (const l of p.log) this.s.log.run(id, l.time, l.level, l.message)
  }

  /** Raw update used by bundle import: summary fields of a finished run. */
  importSummary(
    id: number,
    s: Pick<
      RunSummary,
      | 'status'
      | 'message'
      | 'bestEpoch'
      | 'bestMetrics'
      | 'baselineMetrics'
      | 'testMetrics'
      | 'epochsDone'
      | 'finishedAt'
      | 'createdAt'
    >,
    checkpoints: { checkpoint: string | null; best: string | null }
  ): void {
    this.db
      .prepare(
        `UPDATE runs SET status = @status, message = @message, best_epoch = @bestEpoch, best_metrics = @bestMetrics,
         baseline_metrics = @baselineMetrics, test_metrics = @testMetrics, epochs_done = @epochsDone,
         finished_at = @finishedAt, created_at = @createdAt, checkpoint = @checkpoint, best_checkpoint = @best
         WHERE id = @id`
      )
      .run({
        id,
        status: s.status,
        message: s.message,
        bestEpoch: s.bestEpoch,
        bestMetrics: s.bestMetrics ? JSON.stringify(s.bestMetrics) : null,
        baselineMetrics: s.baselineMetrics ? JSON.stringify(s.baselineMetrics) : null,
        testMetrics: s.testMetrics ? JSON.stringify(s.testMetrics) : null,
        epochsDone: s.epochsDone,
        finishedAt: s.finishedAt,
        createdAt: s.createdAt,
        checkpoint: checkpoints.checkpoint,
        best: checkpoints.best
      })
  }

  /** Inserts gallery ids and per-query rows for an imported run. */
  importGallery(id: number, imageIds: number[], queries: QueryRecord[]): void {
    this.s.clearGallery.run(id)
    imageIds.forEach((imageId, idx) => this.s.insertGallery.run(id, idx, imageId))
    this.s.clearQueries.run(id)
    for (const q of queries) this.s.insertQuery.run(id, q.imageId, q.ap, q.correctAt1 ? 1 : 0)
  }
}
