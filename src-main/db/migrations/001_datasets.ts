import type { Migration } from './index'

/** Datasets, their classes and images (paths relative to the root), and import problems. */
export const m001datasets: Migration = {
  version: 1,
  name: 'datasets',
  up: /* sql */ `
    CREATE TABLE datasets (
      id INTEGER PRIMARY KEY,
      name TEXT NOT NULL,
      root TEXT NOT NULL,
      format TEXT NOT NULL,
      built_in INTEGER NOT NULL DEFAULT 0,
      -- JSON SplitSpec currently applied to classes.split
      split_spec TEXT NOT NULL DEFAULT '{"kind":"preset"}',
      created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
      updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
    );
    CREATE TABLE classes (
      id INTEGER PRIMARY KEY,
      dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
      name TEXT NOT NULL,
      -- a grouping such as the Omniglot alphabet, or NULL
      grp TEXT,
      -- 1-based position in the format's class order (CUB/Cars class numbers)
      ordinal INTEGER NOT NULL,
      -- the split the format's own protocol gives, or NULL
      preset_split TEXT CHECK (preset_split IN ('train','test') OR preset_split IS NULL),
      -- the split in force
      split TEXT CHECK (split IN ('train','test') OR split IS NULL),
      UNIQUE (dataset_id, name)
    );
    CREATE TABLE images (
      id INTEGER PRIMARY KEY,
      dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
      class_id INTEGER NOT NULL REFERENCES classes(id) ON DELETE CASCADE,
      rel_path TEXT NOT NULL,
      size INTEGER NOT NULL,
      mtime_ms REAL NOT NULL,
      sha1 TEXT NOT NULL,
      width INTEGER,
      height INTEGER,
      channels INTEGER,
      -- In-Shop/CSV query-gallery role, or NULL
      role TEXT CHECK (role IN ('query','gallery','both') OR role IS NULL),
      UNIQUE (dataset_id, rel_path)
    );
    CREATE INDEX images_by_class ON images(class_id);
    CREATE INDEX images_by_sha1 ON images(dataset_id, sha1);
    CREATE TABLE problems (
      id INTEGER PRIMARY KEY,
      dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
      kind TEXT NOT NULL,
      rel_path TEXT NOT NULL,
      message TEXT NOT NULL,
      excluded INTEGER NOT NULL
    );
    CREATE INDEX problems_by_dataset ON problems(dataset_id);
  `
}
