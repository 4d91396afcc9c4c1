/**
 * The projection behind an embedding map: computed off the main thread and cached as JSON in the
 * run folder (one file per scope and method), keyed by where the rows came from (the gallery
 * file's size and mtime, or a fingerprint of the dataset embeddings) so that a re-evaluated run
 * gets a fresh map.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import type { MapScope } from '../../src-preload/contract/retrieval'
import type { ProjectionMethod } from './projection'
import type { ProjectionResult } from './projectionJob'
import { runProjection } from './projectionRunner'

/** Bumped when the projection code changes in a way that changes maps. */
export const MAP_CACHE_VERSION = 2
/** Seed of the UMAP random source (fixed so that a run's map is reproducible). */
export const UMAP_SEED = 42

/** The rows to project: image ids per row and the L2-normalised row-major embeddings. */
export interface MapRows {
  imageIds: ArrayLike<number>
  data: Float32Array
  n: number
  d: number
  /** Identifies the rows' source; a cached map with another key is stale. */
  key: string
}

interface MapCacheFile {
  version: number
  method: ProjectionMethod
  key: string
  imageIds: number[]
  coords: number[]
  fitted: number | null
}

/** The cache file of a run's map. */
export function mapCacheFile(
  runDir: string,
  method: ProjectionMethod,
  scope: MapScope = 'test'
): string {
  return join(
    runDir,
    scope === 'test' ? `embedding-map-${method}.json` : `embedding-map-dataset-${method}.json`
  )
}

/** The cached projection of these rows, or null when there is none or it is stale. */
export function readMapCache(
  file: string,
  rows: MapRows,
  method: ProjectionMethod
): ProjectionResult | null {
  try {
    const c = JSON.parse(readFileSync(file, 'utf8')) as MapCacheFile
    const ids = rows.imageIds
    if (
      c.version !== MAP_CACHE_VERSION ||
      c.method !== method ||
      c.key !== rows.key ||
      !Array.isArray(c.imageIds) ||
      c.imageIds.length !== ids.length ||
      !Array.isArray(c.coords) ||
      c.coords.length !== ids.length * 2 ||
      c.imageIds.some((id, i) => id !== ids[i])
    ) {
      return null
    }
    return { coords: Float64Array.from(c.coords), fitted: c.fitted ?? null }
  } catch {
    return null
  }
}

function writeCache(
  file: string,
  rows: MapRows,
  method: ProjectionMethod,
  res: ProjectionResult
): void {
  const body: MapCacheFile = {
    version: MAP_CACHE_VERSION,
    method,
    key: rows.key,
    imageIds: Array.from(rows.imageIds),
    coords: Array.from(res.coords),
    fitted: res.fitted
  }
  try {
    mkdirSync(dirname(file), { recursive: true })
    // Written under a temporary name and renamed, so a reader never sees half a file.
    const tmp = `${file}.${process.pid}.tmp`
    writeFileSync(tmp, JSON.stringify(body))
    renameSync(tmp, file)
  } catch {
    // The cache is an optimisation: a read-only run folder must not fail the map.
  }
}

/**
 * Projects the rows in the projection worker and writes the cache file. The rows' buffer is
 * copied to the worker, so the caller's (possibly cached) embeddings stay intact.
 */
export async function projectAndCache(
  file: string,
  rows: MapRows,
  method: ProjectionMethod,
  onProgress?: (done: number, total: number) => void,
  fitLimit?: number
): Promise<ProjectionResult> {
  const res = await runProjection(method, rows.data, rows.n, rows.d, {
    seed: UMAP_SEED,
    onProgress,
    fitLimit
  })
  writeCache(file, rows, method, res)
  return res
}

/**
 * A fingerprint of embeddings (FNV-1a over the ids and a strided sample of the values): cheap at
 * 20k × 512, and different whenever the run is re-embedded with another model.
 */
export function fingerprint(imageIds: ArrayLike<number>, data: Float32Array): string {
  let h = 0x811c9dc5
  const mix = (v: number): void => {
    h ^= v & 0xff
    h = Math.imul(h, 0x01000193)
    h ^= (v >>> 8) & 0xff
    h = Math.imul(h, 0x01000193)
    h ^= (v >>> 16) & 0xff
    h = Math.imul(h, 0x01000193)
    h ^= v >>> 24
    h = Math.imul(h, 0x01000193)
  }
  for (let i = 0; i < imageIds.length; i++) mix(imageIds[i])
  const bits = new Int32Array(data.buffer, data.byteOffset, data.length)
  const stride = Math.max(1, Math.floor(data.length / 65_536))
  for (let i = 0; i < bits.length; i += stride) mix(bits[i])
  return `${imageIds.length}:${data.length}:${(h >>> 0).toString(16)}`
}
