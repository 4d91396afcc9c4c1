import type { Migration } from './index'

/**
 * Stored summary counts of a dataset (classes, images, problems, per-split counts) as JSON, so
 * that listing datasets costs the same however many images they hold. Triggers reset the
 * column to NULL on any change to a dataset's classes, images or problems, whoever writes
 * them; the datasets repository recomputes and stores it on the next read.
 */
export const m006datasetCounts: Migration = {
  version: 6,
  name: 'dataset_counts',
  up: /* sql */ `
    ALTER TABLE datasets ADD COLUMN counts_json TEXT;
    CREATE TRIGGER images_ai_counts AFTER INSERT ON images BEGIN
      UPDATE datasets SET counts_json = NULL WHERE id = NEW.dataset_id AND counts_json IS NOT NULL;
    END;
    CREATE TRIGGER images_ad_counts AFTER DELETE ON images BEGIN
      UPDATE datasets SET counts_json = NULL WHERE id = OLD.dataset_id AND counts_json IS NOT NULL;
    END;
    CREATE TRIGGER images_au_counts AFTER UPDATE OF class_id, role, dataset_id ON images BEGIN
      UPDATE datasets SET counts_json = NULL
        WHERE id IN (OLD.dataset_id, NEW.dataset_id) AND counts_json IS NOT NULL;
    END;
    CREATE TRIGGER classes_ai_counts AFTER INSERT ON classes BEGIN
      UPDATE datasets SET counts_json = NULL WHERE id = NEW.dataset_id AND counts_json IS NOT NULL;
    END;
    CREATE TRIGGER classes_ad_counts AFTER DELETE ON classes BEGIN
      UPDATE datasets SET counts_json = NULL WHERE id = OLD.dataset_id AND counts_json IS NOT NULL;
    END;
    CREATE TRIGGER classes_au_counts AFTER UPDATE OF split, dataset_id ON classes BEGIN
      UPDATE datasets SET counts_json = NULL
        WHERE id IN (OLD.dataset_id, NEW.dataset_id) AND counts_json IS NOT NULL;
    END;
    CREATE TRIGGER problems_ai_counts AFTER INSERT ON problems BEGIN
      UPDATE datasets SET counts_json = NULL WHERE id = NEW.dataset_id AND counts_json IS NOT NULL;
    END;
    CREATE TRIGGER problems_ad_counts AFTER DELETE ON problems BEGIN
      UPDATE datasets SET counts_json = NULL WHERE id = OLD.dataset_id AND counts_json IS NOT NULL;
    END;
  `
}
