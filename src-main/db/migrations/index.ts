/** A numbered schema change. Versions run 1..n without gaps; a new one gets the next number. */
export interface Migration {
  version: number
  name: string
  up: string
}

import { m001datasets } from './001_datasets'
import { m002runs } from './002_runs'
import { m003runCheckpoints } from './003_run_checkpoints'
import { m004datasetsSource } from './004_datasets_source'
import { m005experiments } from './005_experiments'
import { m006datasetCounts } from './006_dataset_counts'
import { m007runPrevCheckpoint } from './007_run_prev_checkpoint'
import { m008runReferenceMetrics } from './008_run_reference_metrics'
import { m009runAnnotations } from './009_run_annotations'

/** Every migration, in order. Add a new file and one line here. */
export const migrations: Migration[] = [
  m001datasets,
  m002runs,
  m003runCheckpoints,
  m004datasetsSource,
  m005experiments,
  m006datasetCounts,
  m007runPrevCheckpoint,
  m008runReferenceMetrics,
  m009runAnnotations
]
