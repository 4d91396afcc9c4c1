/**
 * The runs-table writes of recovery: falling back to an older verified checkpoint when the last
 * one is damaged, retrying a failed run, and which unfinished runs still need a dataset.
 */
import type { RunStatus } from '../../src-preload/contract/runs'
import type { Db } from '../db'
import type { BestRecord } from './repo'

/** Prepared statements for checkpoint fallback, retry and dataset-in-use checks. */
export class RunRecoveryRepo {
  private s

  constructor(db: Db) {
    this.s = {
      fallBack: db.prepare(
        `UPDATE runs SET checkpoint = @checkpoint, checkpoint_step = @step, epochs_done = @epochs,
         prev_checkpoint = NULL, best_epoch = @bestEpoch, best_metrics = @bestMetrics,
         best_checkpoint = @bestCheckpoint WHERE id = @id`
      ),
      retry: db.prepare(
        `UPDATE runs SET status = 'queued', message = NULL, finished_at = NULL, crash_count = 0
         WHERE id = ? AND status = 'failed'`
      ),
      unfinishedOnDataset: db.prepare(
        `SELECT id, status FROM runs WHERE dataset_id = ? AND status IN ('queued','running','paused')
         ORDER BY id`
      )
    }
  }

  /**
   * Points a run at an older, verified checkpoint (its last one is damaged): position, epochs
   * done and best pointer as that checkpoint recorded them; RunsRepo.rewindToCheckpoint
   * then drops the records after it. `checkpoint` null starts the run over.
   */
  fallBack(
    id: number,
    p: { checkpoint: string | null; step: number; epochs: number; best: BestRecord | null }
  ): void {
    this.s.fallBack.run({
      id,
      checkpoint: p.checkpoint,
      step: p.step,
      epochs: p.epochs,
      bestEpoch: p.best?.epoch ?? null,
      bestMetrics: p.best ? JSON.stringify(p.best.metrics) : null,
      bestCheckpoint: p.best?.checkpoint ?? null
    })
  }

  /** Puts a failed run back in the queue (clearing its end); false when it was not failed. */
  retry(id: number): boolean {
    return this.s.retry.run(id).changes === 1
  }

  /** Runs that still need a dataset's images: queued, running or paused on it. */
  unfinishedOnDataset(datasetId: number): { id: number; status: RunStatus }[] {
    return this.s.unfinishedOnDataset.all(datasetId) as { id: number; status: RunStatus }[]
  }
}
