import type { Migration } from './index'

/**
 * Reference figures and provenance of a run's test metrics: the raw backbone features on test
 * (frozen runs, a reference row in Compare), and which model the test metrics belong to
 * ('final', or 'best-checkpoint' for a stopped run evaluated afterwards).
 */
export const m008runReferenceMetrics: Migration = {
  version: 8,
  name: 'run_reference_metrics',
  up: /* sql */ `
    ALTER TABLE runs ADD COLUMN raw_metrics TEXT;
    ALTER TABLE runs ADD COLUMN test_from TEXT;
  `
}
