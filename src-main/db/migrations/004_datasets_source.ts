import type { Migration } from './index'

/**
 * The list/annotation file that defines a dataset (relative to its root; NULL for folder
 * datasets), so that re-importing a CSV or list-based dataset finds the stored one even when
 * several list files share a folder.
 */
export const m004datasetsSource: Migration = {
  version: 4,
  name: 'datasets_source',
  up: /* sql */ `
    ALTER TABLE datasets ADD COLUMN source_rel TEXT;
    CREATE INDEX datasets_by_root ON datasets(root);
  `
}
