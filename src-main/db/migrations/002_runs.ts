import type { Migration } from './index'

/** Training runs, their per-step and per-epoch records, log, gallery ids and per-query results. */
export const m002runs: Migration = {
  version: 2,
  name: 'runs',
  up: /* sql */ `
    CREATE TABLE runs (
      id INTEGER PRIMARY KEY,
      name TEXT NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('queued','running','paused','completed','failed','cancelled')),
      dataset_id INTEGER REFERENCES datasets(id) ON DELETE SET NULL,
      dataset_name TEXT NOT NULL,
      -- JSON TrainConfig snapshot (every hyperparameter, split, backbone, seed)
      config TEXT NOT NULL,
      backend TEXT NOT NULL DEFAULT '',
      app_version TEXT NOT NULL,
      created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
      started_at TEXT,
      finished_at TEXT,
      message TEXT,
      best_epoch INTEGER,
      best_metrics TEXT,
      baseline_metrics TEXT,
      test_metrics TEXT,
      epochs_done INTEGER NOT NULL DEFAULT 0,
      -- folder (inside the data folder) with checkpoints and the gallery embeddings
      dir TEXT
    );
    CREATE TABLE run_steps (
      run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
      step INTEGER NOT NULL,
      epoch INTEGER NOT NULL,
      loss REAL NOT NULL,
      lds REAL,
      ce REAL,
      lr REAL NOT NULL,
      PRIMARY KEY (run_id, step)
    ) WITHOUT ROWID;
    CREATE TABLE run_epochs (
      run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
      epoch INTEGER NOT NULL,
      metrics TEXT NOT NULL,
      seconds REAL NOT NULL,
      images_per_sec REAL NOT NULL,
      PRIMARY KEY (run_id, epoch)
    ) WITHOUT ROWID;
    CREATE TABLE run_log (
      id INTEGER PRIMARY KEY,
      run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
      time TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
      level TEXT NOT NULL CHECK (level IN ('info','warn','error')),
      message TEXT NOT NULL
    );
    CREATE INDEX run_log_by_run ON run_log(run_id);
    -- row idx of the run's gallery embedding file holds the embedding of image_id
    CREATE TABLE run_gallery (
      run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
      idx INTEGER NOT NULL,
      image_id INTEGER NOT NULL,
      PRIMARY KEY (run_id, idx)
    ) WITHOUT ROWID;
    -- per-query results of the final test evaluation
    CREATE TABLE run_queries (
      run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
      image_id INTEGER NOT NULL,
      ap REAL NOT NULL,
      correct_at1 INTEGER NOT NULL,
      PRIMARY KEY (run_id, image_id)
    ) WITHOUT ROWID;
  `
}
