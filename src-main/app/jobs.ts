import { randomUUID } from 'node:crypto'
import type { JobProgress } from '../../src-preload/contract'
import type { EventBus } from './events'

/** What a running job sees: its id, a cancel signal and a throttled progress reporter. */
export interface JobHandle {
  id: string
  signal: AbortSignal
  /** Reports progress; events go out at most every `throttleMs` (always on the last step). */
  progress(done: number, total: number, message: string): void
}

/** Thrown (or returned as reason) when a job is cancelled by the user. */
export class CancelledError extends Error {
  constructor(message = 'cancelled by the user') {
    super(message)
    this.name = 'CancelledError'
  }
}

/** How long finished jobs stay queryable (`get`, `wait`) before they are dropped. */
export interface JobRetention {
  /** At most this many finished jobs are kept (the oldest finished go first). */
  maxFinished: number
  /** A finished job is dropped this long after it ended. */
  keepMs: number
}

/**
 * Finished jobs are kept for 10 minutes, at most 50: the renderer follows jobs through `job`
 * events (it never asks for a job's state), so the backend only needs finished jobs for `wait`
 * and `get` right after the end (CLI, services that await their job, tests).
 */
export const DEFAULT_JOB_RETENTION: JobRetention = { maxFinished: 50, keepMs: 10 * 60_000 }

interface JobEntry {
  state: JobProgress
  abort: AbortController
  /** Resolves with the final state when the job ends. */
  ended: Promise<JobProgress>
  /** When the job ended (ms, `now()`), undefined while it runs. */
  endedAt?: number
}

/** Runs background jobs (imports, validation, exports) with progress events and cancellation. */
export class JobRunner {
  private jobs = new Map<string, JobEntry>()

  constructor(
    private events: EventBus,
    private throttleMs = 125,
    private retention: JobRetention = DEFAULT_JOB_RETENTION,
    private now: () => number = Date.now
  ) {}

  /** How many jobs (running and kept finished ones) the runner holds. */
  get size(): number {
    this.prune()
    return this.jobs.size
  }

  /**
   * Starts `fn` in the background and returns the job id at once. `targetId`, when known up
   * front, is in every event of the job (so a view can follow the job of its run).
   */
  start(
    kind: JobProgress['kind'],
    message: string,
    fn: (job: JobHandle) => Promise<{ targetId?: number } | void>,
    targetId?: number
  ): string {
    const id = randomUUID()
    const abort = new AbortController()
    const state: JobProgress = { jobId: id, kind, message, done: 0, total: 0, status: 'running' }
    if (targetId !== undefined) state.targetId = targetId
    let end!: (s: JobProgress) => void
    const entry: JobEntry = { state, abort, ended: new Promise((r) => (end = r)) }
    this.prune()
    this.jobs.set(id, entry)
    let last = 0
    const handle: JobHandle = {
      id,
      signal: abort.signal,
      progress: (done, total, msg) => {
        Object.assign(state, { done, total, message: msg })
        const now = Date.now()
        if (now - last >= this.throttleMs || done >= total) {
          last = now
          this.events.emit({ type: 'job', job: { ...state } })
        }
      }
    }
    this.events.emit({ type: 'job', job: { ...state } })
    // Run on the next tick so that the caller gets the id before any event about it.
    setImmediate(() => {
      fn(handle)
        .then((res) => {
          state.status = abort.signal.aborted ? 'cancelled' : 'completed'
          if (res && res.targetId !== undefined) state.targetId = res.targetId
        })
        .catch((err: unknown) => {
          const cancelled = abort.signal.aborted || err instanceof CancelledError
          state.status = cancelled ? 'cancelled' : 'failed'
          state.error = err instanceof Error ? err.message : String(err)
        })
        .finally(() => {
          entry.endedAt = this.now()
          this.prune()
          this.events.emit({ type: 'job', job: { ...state } })
          end({ ...state })
        })
    })
    return id
  }

  /** Asks a job to stop; it ends as 'cancelled' at its next check of the signal. */
  cancel(id: string): void {
    this.prune()
    const job = this.jobs.get(id)
    if (!job) throw new Error(`no job with id ${id}`)
    job.abort.abort()
  }

  /** The job's last known state; undefined for an unknown or dropped (long finished) job. */
  get(id: string): JobProgress | undefined {
    this.prune()
    const job = this.jobs.get(id)
    return job ? { ...job.state } : undefined
  }

  /**
   * Resolves with the final state when the job has ended (for the CLI, services and tests);
   * rejects for an unknown or already dropped job.
   */
  wait(id: string): Promise<JobProgress> {
    this.prune()
    const job = this.jobs.get(id)
    if (!job) return Promise.reject(new Error(`no job with id ${id}`))
    return job.ended
  }

  /** Drops finished jobs older than `keepMs`, then the oldest finished beyond `maxFinished`. */
  private prune(): void {
    const now = this.now()
    const finished: [string, number][] = []
    for (const [id, job] of this.jobs) {
      if (job.endedAt === undefined) continue
      if (now - job.endedAt >= this.retention.keepMs) this.jobs.delete(id)
      else finished.push([id, job.endedAt])
    }
    const excess = finished.length - this.retention.maxFinished
    if (excess <= 0) return
    finished.sort((a, b) => a[1] - b[1])
    for (const [id] of finished.slice(0, excess)) this.jobs.delete(id)
  }
}
