/**
 * Training callbacks, named as in tfjs-layers (onTrainBegin, onEpochBegin, onBatchEnd,
 * onEpochEnd, onTrainEnd), and a throttle so that progress goes out about every 125 ms rather
 * than on every batch.
 */

/** What the loop reports after each batch. */
export interface BatchLogs {
  /** Global step index (0-based, counts every batch since the run began). */
  step: number
  /** 0-based epoch. */
  epoch: number
  /** 0-based batch within the epoch. */
  batch: number
  batches: number
  loss: number
  /** Named parts of the loss (HIST: lds, ce). */
  parts: Record<string, number>
  /** Learning rate of the embedding head (the run's base lr after the schedule). */
  lr: number
  /** Images in this batch. */
  size: number
}

/** What the loop reports after each epoch (before the owner adds evaluation). */
export interface EpochLogs {
  /** 0-based epoch that just ended. */
  epoch: number
  /** Mean loss over the epoch's batches. */
  loss: number
  seconds: number
  imagesPerSec: number
  /** Global step count after this epoch. */
  step: number
}

/** tfjs-style hooks; any may be async, and the loop awaits it. */
export interface TrainCallbacks {
  onTrainBegin?(): void | Promise<void>
  onEpochBegin?(epoch: number): void | Promise<void>
  onBatchEnd?(logs: BatchLogs): void | Promise<void>
  onEpochEnd?(logs: EpochLogs): void | Promise<void>
  onTrainEnd?(reason: 'completed' | 'paused' | 'cancelled'): void | Promise<void>
}

/** Lets a call through at most once per `intervalMs` (the first and forced ones always). */
export class Throttle {
  private last = -Infinity

  constructor(
    private intervalMs = 125,
    private clock: () => number = () => performance.now()
  ) {}

  /** True when enough time has passed since the last accepted call (or when forced). */
  ready(force = false): boolean {
    const t = this.clock()
    if (!force && t - this.last < this.intervalMs) return false
    this.last = t
    return true
  }
}

/**
 * Estimates images per second and the seconds left from recent batches: an exponential moving
 * average of seconds per image, so that a slow first batch (kernel warm-up) fades out.
 */
export class RateMeter {
  private secPerImage: number | null = null

  constructor(private smoothing = 0.1) {}

  /** Records a batch of `images` that took `seconds`. */
  add(images: number, seconds: number): void {
    if (images <= 0 || seconds <= 0) return
    const s = seconds / images
    this.secPerImage =
      this.secPerImage === null ? s : this.secPerImage + this.smoothing * (s - this.secPerImage)
  }

  /** Images per second, or null before the first batch. */
  imagesPerSec(): number | null {
    return this.secPerImage === null ? null : 1 / this.secPerImage
  }

  /** Seconds for `images` more images at the current rate, or null before the first batch. */
  secondsFor(images: number): number | null {
    return this.secPerImage === null ? null : images * this.secPerImage
  }
}
