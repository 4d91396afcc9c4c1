import type { Migration } from './index'

/**
 * The checkpoint before the last one, kept (file and name) until the next checkpoint is written
 * and verified, so that a run whose last checkpoint is damaged falls back to it.
 */
export const m007runPrevCheckpoint: Migration = {
  version: 7,
  name: 'run_prev_checkpoint',
  up: /* sql */ `
    ALTER TABLE runs ADD COLUMN prev_checkpoint TEXT;
  `
}
