import type { Migration } from './index'

/**
 * Experiments (sweeps, ablation sets): the base config, the swept axes, and one row per point
 * linking to an ordinary run. A removed run leaves its point with run_id NULL.
 */
export const m005experiments: Migration = {
  version: 5,
  name: 'experiments',
  up: /* sql */ `
    CREATE TABLE experiments (
      id INTEGER PRIMARY KEY,
      kind TEXT NOT NULL CHECK (kind IN ('sweep', 'ablation')),
      name TEXT NOT NULL,
      dataset_id INTEGER REFERENCES datasets(id) ON DELETE SET NULL,
      dataset_name TEXT NOT NULL,
      base_config TEXT NOT NULL,
      axes TEXT NOT NULL,
      created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
    );
    CREATE TABLE experiment_points (
      experiment_id INTEGER NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
      ordinal INTEGER NOT NULL,
      label TEXT NOT NULL,
      point_values TEXT NOT NULL,
      variant TEXT,
      run_id INTEGER REFERENCES runs(id) ON DELETE SET NULL,
      PRIMARY KEY (experiment_id, ordinal)
    );
    CREATE INDEX experiment_points_by_run ON experiment_points(run_id);
  `
}
