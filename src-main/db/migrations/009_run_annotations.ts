import type { Migration } from './index'

/** Tags (a JSON array of strings) and a free-text note per run, edited by the user. */
export const m009runAnnotations: Migration = {
  version: 9,
  name: 'run_annotations',
  up: /* sql */ `
    ALTER TABLE runs ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE runs ADD COLUMN note TEXT NOT NULL DEFAULT '';
  `
}
