/**
 * The embedding map of a run: a 2-D projection of its gallery, computed off the main thread and
 * cached as JSON in the run folder (one file per method), keyed by the gallery file's size and
 * mtime so that a re-evaluated run gets a fresh map.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import type { MapPoint } from '../../src-preload/contract/retrieval'
import type { LoadedGallery } from './galleries'
import type { ProjectionMethod } from './projection'
import { runProjection } from './projectionRunner'

/** Bumped when the projection code changes in a way that changes maps. */
export const MAP_CACHE_VERSION = 1
/** Seed of the UMAP random source (fixed so that a run's map is reproducible). */
export const UMAP_SEED = 42

interface MapCacheFile {
  version: number
  method: ProjectionMethod
  fileKey: string
  imageIds: number[]
  coords: number[]
}

/** The cache file of a run's map. */
export function mapCacheFile(runDir: string, method: ProjectionMethod): string {
  return join(runDir, `embedding-map-${method}.json`)
}

function readCache(file: string, g: LoadedGallery, method: ProjectionMethod): Float64Array | null {
  try {
    const c = JSON.parse(readFileSync(file, 'utf8')) as MapCacheFile
    const ids = g.meta.imageIds
    if (
      c.version !== MAP_CACHE_VERSION ||
      c.method !== method ||
      c.fileKey !== g.fileKey ||
      !Array.isArray(c.imageIds) ||
      c.imageIds.length !== ids.length ||
      !Array.isArray(c.coords) ||
      c.coords.length !== ids.length * 2 ||
      c.imageIds.some((id, i) => id !== ids[i])
    ) {
      return null
    }
    return Float64Array.from(c.coords)
  } catch {
    return null
  }
}

function writeCache(
  file: string,
  g: LoadedGallery,
  method: ProjectionMethod,
  coords: Float64Array
): void {
  const body: MapCacheFile = {
    version: MAP_CACHE_VERSION,
    method,
    fileKey: g.fileKey,
    imageIds: Array.from(g.meta.imageIds),
    coords: Array.from(coords)
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

const inFlight = new Map<string, Promise<Float64Array>>()

/**
 * The map points of a run's gallery: the cached projection if it is current, else computed in
 * the projection worker (concurrent requests for the same map share one computation).
 */
export async function embeddingMap(
  g: LoadedGallery,
  runDir: string,
  method: ProjectionMethod
): Promise<MapPoint[]> {
  const file = mapCacheFile(runDir, method)
  let coords = readCache(file, g, method)
  if (!coords) {
    const key = `${file}|${g.fileKey}`
    let job = inFlight.get(key)
    if (!job) {
      // The index holds L2-normalised rows: the map shows the geometry retrieval ranks by.
      const { data, n, d } = g.index
      job = runProjection(method, data, n, d, UMAP_SEED).then((c) => {
        writeCache(file, g, method, c)
        return c
      })
      inFlight.set(key, job)
      const clear = (): void => {
        inFlight.delete(key)
      }
      job.then(clear, clear)
    }
    coords = await job
  }
  const { imageIds, classIds } = g.meta
  const out: MapPoint[] = new Array(imageIds.length)
  for (let i = 0; i < imageIds.length; i++) {
    out[i] = { imageId: imageIds[i], classId: classIds[i], x: coords[2 * i], y: coords[2 * i + 1] }
  }
  return out
}
