/**
 * The run queue and lifecycle: one training at a time, each in its own trainer process; pause,
 * resume, stop; and recovery, so that a run whose trainer died (killed, crashed, or the app
 * closed under it) continues from its last checkpoint.
 *
 * The owner is the only writer of the runs tables. The trainer sends plain records and this
 * class commits each logical change in one transaction (see RunsRepo), so a killed trainer
 * or a killed owner never leaves a half-written epoch.
 */
import { join } from 'node:path'
import type { RunLogEntry, RunStatus } from '../../src-preload/contract/runs'
import type { AppContext } from '../app/context'
import type { FromTrainer, RunJob } from '../trainer/protocol'
import { pruneCheckpoints } from '../ml/train/checkpoints'
import { findFallback } from './fallback'
import { RunRecoveryRepo } from './recoveryRepo'
import type { RunsRepo } from './repo'
import type { TrainerClient } from './trainerClient'
import { ConflictError } from '../../src-preload/contract/errors'

/** How the queue builds jobs and starts trainers (tests and the bench replace parts). */
export interface QueueOptions {
  /** Builds the trainer's job for a run from the database and the run's resume state. */
  buildJob(runId: number): RunJob
  /** Starts a trainer process. */
  launch(): TrainerClient
  /** Consecutive trainer deaths without a finished epoch before the run fails (default 2). */
  maxCrashes?: number
  /** Milliseconds a trainer gets to honour stop/pause before it is killed (default 60 s). */
  graceMs?: number
  /** This process's id (tests simulate other owners). */
  pid?: number
}

interface ActiveRun {
  runId: number
  client: TrainerClient
  /** A terminal message (result, failed, cancelled, paused) arrived. */
  settled: boolean
  requested: 'pause' | 'stop' | null
  killTimer: NodeJS.Timeout | null
  /** Resolves when the process has exited and the run is settled. */
  done: Promise<void>
  resolveDone(): void
}

/** True when a process with this id exists (EPERM: it exists but is not ours). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

const TERMINAL: RunStatus[] = ['completed', 'failed', 'cancelled']

/** One-at-a-time training queue over the runs tables. */
export class RunQueue {
  private active: ActiveRun | null = null
  private closed = false
  private pollTimer: NodeJS.Timeout | null = null
  private readonly me: number
  private readonly maxCrashes: number
  private readonly graceMs: number
  private readonly recovery: RunRecoveryRepo

  constructor(
    private ctx: AppContext,
    private repo: RunsRepo,
    private opts: QueueOptions
  ) {
    this.me = opts.pid ?? process.pid
    this.maxCrashes = opts.maxCrashes ?? 2
    this.graceMs = opts.graceMs ?? 60_000
    this.recovery = new RunRecoveryRepo(ctx.db)
  }

  /** The run whose trainer is alive in this process, if any. */
  activeRunId(): number | null {
    return this.active?.runId ?? null
  }

  /** Folder of a run inside the data folder. */
  runDir(id: number): string {
    return join(this.ctx.paths.runs, String(id))
  }

  /**
   * Adopts runs whose owner is gone: 'running' ones (their trainer died with the app) go back to
   * the queue and resume from their last checkpoint; 'queued' ones of a dead owner are taken over.
   */
  recover(): number[] {
    const adopted: number[] = []
    const lists = {
      running: this.repo.withStatus('running'),
      queued: this.repo.withStatus('queued')
    }
    for (const status of ['running', 'queued'] as const) {
      for (const run of lists[status]) {
        const st = this.repo.resumeState(run.id)
        if (st.ownerPid !== null && st.ownerPid !== this.me && pidAlive(st.ownerPid)) continue
        if (status === 'running') {
          const from = st.checkpoint ? `the checkpoint after epoch ${st.epochsDone}` : 'the start'
          this.log(
            run.id,
            'warn',
            `The trainer stopped unexpectedly (the app closed or crashed); resuming from ${from}.`
          )
          this.repo.setStatus(run.id, 'queued', null)
          if (st.dir)
            pruneCheckpoints(st.dir, [st.checkpoint, st.prevCheckpoint, st.bestCheckpoint], true)
        }
        this.repo.setOwner(run.id, this.me)
        adopted.push(run.id)
        this.emitStatus(run.id)
      }
    }
    if (adopted.length) this.ctx.events.emit({ type: 'runs.changed' })
    this.kick()
    return adopted
  }

  /** Puts a created run (already 'queued') under this process and starts it when its turn comes. */
  enqueue(runId: number): void {
    this.repo.setOwner(runId, this.me)
    this.repo.setDir(runId, this.runDir(runId))
    this.emitStatus(runId)
    this.kick()
  }

  /** Pauses a run: a training one checkpoints at the next batch; a queued one leaves the queue. */
  pause(runId: number): void {
    const run = this.repo.get(runId)
    if (this.active?.runId === runId && !this.active.settled) {
      if (this.active.requested) return
      this.active.requested = 'pause'
      this.active.client.send({ type: 'pause' })
      this.armKillTimer(this.active)
      this.log(runId, 'info', 'Pausing at the next batch boundary.')
      return
    }
    if (run.status === 'queued') {
      this.repo.setStatus(runId, 'paused', null)
      this.repo.setOwner(runId, null)
      this.emitStatus(runId)
      return
    }
    throw new ConflictError(
      `run ${runId} is ${run.status}; only a queued or running run can be paused`
    )
  }

  /** Puts a paused run back in the queue; it resumes exactly where it paused. */
  resume(runId: number): void {
    const run = this.repo.get(runId)
    if (run.status !== 'paused')
      throw new ConflictError(
        `run ${runId} is ${run.status}; only a paused run can be resumed${run.status === 'failed' ? ' (retry a failed run)' : ''}`
      )
    this.repo.setStatus(runId, 'queued', null)
    this.enqueue(runId)
  }

  /**
   * Puts a failed run back in the queue; it resumes from its last checkpoint that verifies (see
   * startTrainer), or from the start when it has none.
   */
  retry(runId: number): void {
    const run = this.repo.get(runId)
    if (!this.recovery.retry(runId))
      throw new ConflictError(`run ${runId} is ${run.status}; only a failed run can be retried`)
    const st = this.repo.resumeState(runId)
    const from = st.checkpoint
      ? `checkpoint ${st.checkpoint} (epoch ${st.epochsDone})`
      : 'the start'
    this.log(runId, 'info', `Retrying the failed run from ${from}.`)
    this.enqueue(runId)
  }

  /** Stops a run for good (cancelled); a training one stops at the next batch. */
  async stop(runId: number): Promise<void> {
    const run = this.repo.get(runId)
    if (this.active?.runId === runId && !this.active.settled) {
      const a = this.active
      if (a.requested !== 'stop') {
        a.requested = 'stop'
        a.client.send({ type: 'stop' })
        this.armKillTimer(a)
        this.log(runId, 'info', 'Stopping at the next batch boundary.')
      }
      await a.done
      return
    }
    if (run.status === 'queued' || run.status === 'paused' || run.status === 'running') {
      this.repo.markFinished(runId, 'cancelled', 'Stopped by the user.')
      this.emitStatus(runId)
      return
    }
    throw new ConflictError(`run ${runId} has already ended (${run.status})`)
  }

  /** Resolves when the given run has reached a terminal or paused state. */
  waitFor(runId: number, pollMs = 100): Promise<RunStatus> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const r = this.repo.find(runId)
        if (!r) return reject(new Error(`run ${runId} was removed`))
        if (TERMINAL.includes(r.status) || (r.status === 'paused' && this.active?.runId !== runId))
          resolve(r.status)
        else setTimeout(check, pollMs)
      }
      check()
    })
  }

  /** Kills this process's trainer (the run stays 'running' and is resumed on the next start). */
  async shutdown(): Promise<void> {
    this.closed = true
    if (this.pollTimer) clearTimeout(this.pollTimer)
    const a = this.active
    if (a) {
      a.settled = true // an exit we caused is not a crash to handle now; recover() resumes it
      a.client.kill()
      await a.done
    }
  }

  /** Starts the next queued run of this process when nothing is training. */
  kick(): void {
    if (this.closed || this.active || !this.ctx.db.open) return
    if (this.pollTimer) {
      clearTimeout(this.pollTimer)
      this.pollTimer = null
    }
    const queued = this.repo.withStatus('queued').filter((r) => {
      const owner = this.repo.resumeState(r.id).ownerPid
      return owner === this.me || owner === null || !pidAlive(owner)
    })
    if (!queued.length) return
    // One training at a time across app instances sharing the data folder too.
    const foreign = this.repo.withStatus('running').some((r) => {
      const owner = this.repo.resumeState(r.id).ownerPid
      return owner !== null && owner !== this.me && pidAlive(owner)
    })
    if (foreign) {
      this.pollTimer = setTimeout(() => this.kick(), 2000)
      this.pollTimer.unref()
      return
    }
    const next = queued[0]
    if (!this.repo.claim(next.id, this.me)) return this.kick()
    this.startTrainer(next.id)
  }

  private startTrainer(runId: number): void {
    let job: RunJob
    try {
      this.useGoodCheckpoint(runId)
      this.repo.rewindToCheckpoint(runId)
      job = this.opts.buildJob(runId)
    } catch (err) {
      this.fail(runId, `Could not start: ${(err as Error).message}`)
      setImmediate(() => this.kick())
      return
    }
    let resolveDone!: () => void
    const done = new Promise<void>((r) => (resolveDone = r))
    const client = this.opts.launch()
    const a: ActiveRun = {
      runId,
      client,
      settled: false,
      requested: null,
      killTimer: null,
      done,
      resolveDone
    }
    this.active = a
    this.emitStatus(runId)
    if (job.checkpoint) this.log(runId, 'info', `Resuming from checkpoint ${job.checkpoint}.`)
    client.onMessage((msg) => {
      try {
        this.handle(a, msg)
      } catch (err) {
        console.error(`run ${runId}: could not record a trainer message`, err)
      }
    })
    client.onInvalid((err) => {
      this.log(runId, 'error', err.message)
    })
    client.onExit((code) => this.onExit(a, code))
    client.send({ type: 'start', job })
  }

  /**
   * Makes the run resume from a checkpoint that verifies: a damaged last one is replaced by the
   * newest older one that verifies (or the start), with a warning in the run's log.
   */
  private useGoodCheckpoint(runId: number): void {
    const fb = findFallback(this.repo.resumeState(runId))
    if (!fb) return
    const pos = fb.meta?.position
    const best = fb.meta?.best ?? null
    this.recovery.fallBack(runId, {
      checkpoint: fb.checkpoint,
      step: pos?.step ?? 0,
      epochs: pos?.epoch ?? 0,
      best
    })
    const to = fb.checkpoint
      ? `falling back to ${fb.checkpoint} (epoch ${pos!.epoch}${pos!.batch ? `, batch ${pos!.batch}` : ''})`
      : 'no older checkpoint verifies, so the run starts over'
    this.log(runId, 'warn', `The last ${fb.problem}; ${to}.`)
  }

  private handle(a: ActiveRun, msg: FromTrainer): void {
    const id = a.runId
    const ev = this.ctx.events
    switch (msg.type) {
      case 'ready':
        return
      case 'backend':
        this.repo.setBackend(id, msg.backend)
        return
      case 'log':
        this.log(id, msg.level, msg.message)
        return
      case 'progress':
        ev.emit({ type: 'run.progress', progress: { runId: id, ...msg.progress } })
        return
      case 'steps':
        this.repo.addSteps(id, msg.steps)
        ev.emit({ type: 'run.steps', runId: id, steps: msg.steps })
        return
      case 'baseline':
        this.repo.setBaseline(id, msg.metrics, msg.rawMetrics)
        ev.emit({ type: 'runs.changed' })
        return
      case 'epoch': {
        this.repo.commitEpoch(id, {
          record: msg.record,
          checkpoint: msg.checkpoint,
          step: msg.step,
          best: msg.best
        })
        const st = this.repo.resumeState(id)
        if (st.dir) pruneCheckpoints(st.dir, [st.checkpoint, st.prevCheckpoint, st.bestCheckpoint])
        ev.emit({ type: 'run.epoch', runId: id, record: msg.record })
        ev.emit({ type: 'runs.changed' })
        return
      }
      case 'paused':
        a.settled = true
        this.repo.commitPause(id, {
          checkpoint: msg.checkpoint,
          step: msg.step,
          message: 'Paused by the user.'
        })
        this.log(
          id,
          'info',
          msg.checkpoint
            ? `Paused; checkpoint ${msg.checkpoint} saved.`
            : 'Paused before training began.'
        )
        this.emitStatus(id)
        this.finishProcess(a)
        return
      case 'result':
        a.settled = true
        this.repo.commitResult(id, {
          testMetrics: msg.testMetrics,
          galleryImageIds: msg.galleryImageIds,
          queries: msg.queries,
          modelCheckpoint: msg.modelCheckpoint
        })
        this.warnBelowBaseline(id)
        this.emitStatus(id)
        this.finishProcess(a)
        return
      case 'failed':
        a.settled = true
        this.fail(id, msg.message)
        this.finishProcess(a)
        return
      case 'cancelled':
        a.settled = true
        this.repo.markFinished(id, 'cancelled', 'Stopped by the user.')
        this.emitStatus(id)
        this.finishProcess(a)
        return
      case 'probeResult':
        return
    }
  }

  /** The trainer said its last word: let it go (it also exits by itself). */
  private finishProcess(a: ActiveRun): void {
    const t = setTimeout(() => a.client.kill(), 2000)
    t.unref()
  }

  private onExit(a: ActiveRun, code: number | null): void {
    if (a.killTimer) clearTimeout(a.killTimer)
    const id = a.runId
    if (this.active === a) this.active = null
    try {
      if (!a.settled && !this.closed) {
        if (a.requested === 'stop') {
          this.repo.markFinished(id, 'cancelled', 'Stopped by the user.')
          this.emitStatus(id)
        } else if (a.requested === 'pause') {
          this.repo.commitPause(id, {
            checkpoint: null,
            step: 0,
            message:
              'Paused (the trainer did not checkpoint in time; it resumes from the last epoch).'
          })
          this.emitStatus(id)
        } else {
          this.onCrash(id, code)
        }
      }
    } catch (err) {
      console.error(`run ${id}: could not record the trainer's exit`, err)
    }
    a.resolveDone()
    if (!this.closed) setImmediate(() => this.kick())
  }

  private onCrash(id: number, code: number | null): void {
    const how = code === null ? 'was killed' : `exited with code ${code}`
    const crashes = this.repo.countCrash(id)
    const st = this.repo.resumeState(id)
    if (crashes > this.maxCrashes) {
      this.fail(
        id,
        `The trainer process ${how} ${crashes} times in a row without finishing an epoch.`
      )
      return
    }
    const from = st.checkpoint ? `the checkpoint after epoch ${st.epochsDone}` : 'the start'
    this.log(id, 'warn', `The trainer process ${how}; resuming from ${from}.`)
    if (st.dir)
      pruneCheckpoints(st.dir, [st.checkpoint, st.prevCheckpoint, st.bestCheckpoint], true)
    this.repo.setStatus(id, 'queued', null)
    this.emitStatus(id)
  }

  private armKillTimer(a: ActiveRun): void {
    if (a.killTimer) return
    a.killTimer = setTimeout(() => a.client.kill(), this.graceMs)
    a.killTimer.unref()
  }

  /** Logs a warning when the trained model is worse on test than the untrained one. */
  private warnBelowBaseline(id: number): void {
    const r = this.repo.get(id)
    if (!r.belowBaseline) return
    const pct = (m: typeof r.testMetrics): string => ((m?.recall['1'] ?? 0) * 100).toFixed(1)
    this.log(
      id,
      'warn',
      `Training made the model worse: test R@1 ${pct(r.testMetrics)} is below the untrained model's ${pct(r.baselineMetrics)}. Check the learning rate and the loss settings.`
    )
  }

  private fail(id: number, message: string): void {
    this.log(id, 'error', message)
    this.repo.markFinished(id, 'failed', message)
    this.emitStatus(id)
  }

  private log(id: number, level: RunLogEntry['level'], message: string): void {
    const entry = this.repo.log(id, level, message)
    this.ctx.events.emit({ type: 'run.log', runId: id, entry })
  }

  private emitStatus(id: number): void {
    const r = this.repo.find(id)
    if (!r) return
    this.ctx.events.emit({ type: 'run.status', runId: id, status: r.status, message: r.message })
    this.ctx.events.emit({ type: 'runs.changed' })
  }
}
