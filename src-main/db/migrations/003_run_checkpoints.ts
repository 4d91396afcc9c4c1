import type { Migration } from './index'

/**
 * What resuming a run needs beyond 002: the checkpoint files it may resume from (paths relative
 * to the run folder, written atomically before the row points at them), the global step the
 * last checkpoint stands at, and which process owns a queued/running run (so that a second app
 * instance on the same data folder does not steal a live run when it recovers crashed ones).
 */
export const m003runCheckpoints: Migration = {
  version: 3,
  name: 'run_checkpoints',
  up: /* sql */ `
    ALTER TABLE runs ADD COLUMN checkpoint TEXT;
    ALTER TABLE runs ADD COLUMN best_checkpoint TEXT;
    ALTER TABLE runs ADD COLUMN checkpoint_step INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE runs ADD COLUMN owner_pid INTEGER;
    ALTER TABLE runs ADD COLUMN crash_count INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX runs_by_status ON runs(status);
  `
}
