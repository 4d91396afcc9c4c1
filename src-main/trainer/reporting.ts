/**
 * Reporting of a run to its owner: throttled progress with an ETA and per-step records sent in
 * small batches. Plain data only, through `send`.
 */
import { RateMeter, Throttle, type BatchLogs } from '../ml/train/callbacks'
import type { FromTrainer } from './protocol'

export type Send = (m: FromTrainer) => void

/** The progress record of the protocol. */
export type ProgressRecord = Extract<FromTrainer, { type: 'progress' }>['progress']

/** Sends throttled progress (about 8 a second) with an ETA. */
export class Progress {
  private throttle = new Throttle(125)
  constructor(private send: Send) {}
  /** Sends a line for the run's log. */
  log(level: 'info' | 'warn' | 'error', message: string): void {
    this.send({ type: 'log', level, message })
  }
  /** Reports progress; `force` for phase changes and ends. */
  report(p: ProgressRecord, force = false): void {
    if (this.throttle.ready(force)) this.send({ type: 'progress', progress: p })
  }
}

/**
 * Step records and the training rate: `batchEnd` keeps each batch's record and its speed,
 * `flush` sends the pending records (about 4 times a second from `batchEnd`, and at every epoch
 * end), `eta` estimates the seconds left including the measured evaluation time per epoch.
 */
export class StepReporter {
  private pending: BatchLogs[] = []
  private readonly throttle = new Throttle(250)
  private readonly rate = new RateMeter()
  private lastBatchEnd = performance.now()
  private evalSeconds = 0
  private evalCount = 0

  constructor(
    private readonly send: Send,
    private readonly plan: { epochs: number; perEpoch: number; batchSize: number }
  ) {}

  /** Restarts the batch clock (epoch start, after an evaluation). */
  resetClock(): void {
    this.lastBatchEnd = performance.now()
  }

  /** Records one batch; sends the pending records when the throttle allows. */
  batchEnd(l: BatchLogs): void {
    const now = performance.now()
    this.rate.add(l.size, (now - this.lastBatchEnd) / 1000)
    this.lastBatchEnd = now
    this.pending.push(l)
    if (this.throttle.ready()) this.flush()
  }

  /** Adds one epoch's evaluation time to the ETA's estimate. */
  evalDone(seconds: number): void {
    this.evalSeconds += seconds
    this.evalCount++
  }

  imagesPerSec(): number | null {
    return this.rate.imagesPerSec()
  }

  /** Seconds left after batch `batch` of epoch `epoch` (0-based), or null before any rate. */
  eta(epoch: number, batch: number): number | null {
    const { epochs, perEpoch, batchSize } = this.plan
    const left = (epochs - epoch - 1) * perEpoch + (perEpoch - batch - 1)
    const trainSec = this.rate.secondsFor(left * batchSize)
    if (trainSec === null) return null
    return trainSec + (this.evalCount ? (this.evalSeconds / this.evalCount) * (epochs - epoch) : 0)
  }

  /** Sends every pending step record. */
  flush(): void {
    if (!this.pending.length) return
    this.send({
      type: 'steps',
      steps: this.pending.map((l) => ({
        step: l.step,
        epoch: l.epoch + 1,
        loss: l.loss,
        lds: l.parts.lds ?? null,
        ce: l.parts.ce ?? null,
        lr: l.lr
      }))
    })
    this.pending = []
  }
}
