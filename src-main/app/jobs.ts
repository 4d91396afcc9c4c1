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

/** Runs background jobs (imports, validation, exports) with progress events and cancellation. */
export class JobRunner {
  private jobs = new Map<string, { state: JobProgress; abort: AbortController }>()

  constructor(
    private events: EventBus,
    private throttleMs = 125
  ) {}

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
    this.jobs.set(id, { state, abort })
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
          this.events.emit({ type: 'job', job: { ...state } })
        })
    })
    return id
  }

  /** Asks a job to stop; it ends as 'cancelled' at its next check of the signal. */
  cancel(id: string): void {
    const job = this.jobs.get(id)
    if (!job) throw new Error(`no job with id ${id}`)
    job.abort.abort()
  }

  /** The job's last known state. */
  get(id: string): JobProgress | undefined {
    const job = this.jobs.get(id)
    return job ? { ...job.state } : undefined
  }

  /** Resolves when the job has ended (for the CLI and tests). */
  wait(id: string): Promise<JobProgress> {
    return new Promise((resolve) => {
      const check = (): void => {
        const s = this.get(id)
        if (!s || s.status !== 'running') resolve(s!)
        else setTimeout(check, 20)
      }
      check()
    })
  }
}
