/**
 * Feature cache for frozen-backbone training: pooled (GAP + GMP) backbone features of a dataset,
 * computed once and stored on disk.
 *
 * File `<cacheKey>-<hash16>.feat`: a 80-byte header (magic 'HSTF', version, count, dim, sha256 of
 * the key material, sha256 of the payload) then count × dim float32 little-endian. The key
 * material is the backbone (name, input size, mean/std, and a weights fingerprint once weights
 * changed), the transform, and every item's path, size and mtime, so a changed image or model
 * gives a new file. A file that fails any check is recomputed; writes go to a temp file first.
 */
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import * as tf from '@tensorflow/tfjs'
import type { BackendName } from '../../../src-preload/contract/system'
import { GPU_BACKENDS } from '../backend'
import type { Backbone } from '../models/backbones'
import { embedImages, type EmbedMode } from './embed'
import { createEmbedPool } from './embedPool'

/** Datasets larger than this are embedded by a worker pool when the backbone allows it. */
export const POOL_THRESHOLD = 256

const MAGIC = 0x46545348 // 'HSTF' little-endian
const VERSION = 1
const HEADER = 80

/** Options of extractFeatures. */
export interface ExtractOptions {
  cacheDir: string
  /** Caller's name for the item list (e.g. dataset id + split); used in the file name. */
  cacheKey: string
  batchSize?: number
  /** Deterministic transform (default 'test'). */
  mode?: EmbedMode
  onProgress?: (done: number, total: number) => void
  signal?: AbortSignal
  /** Worker threads; default: one per core when items > POOL_THRESHOLD and the backbone has a source. */
  workers?: number
}

/** The result: row-major N × dim features. */
export interface FeatureSet {
  features: Float32Array
  dim: number
}

/** sha256 over the backbone's weights: distinguishes fine-tuned copies with the same name. */
function weightsFingerprint(backbone: Backbone): string {
  const h = createHash('sha256')
  const w = backbone.getWeights()
  for (const k of Object.keys(w).sort()) {
    h.update(k)
    const d = w[k].dataSync()
    h.update(new Uint8Array(d.buffer, d.byteOffset, d.byteLength))
  }
  tf.dispose(Object.values(w))
  return h.digest('hex')
}

/** The key material hash (hex) for a backbone, item list and transform. */
export function featureKey(backbone: Backbone, items: { path: string }[], mode: EmbedMode): string {
  const h = createHash('sha256')
  const weights = backbone.source ? 'pristine' : weightsFingerprint(backbone)
  h.update(
    JSON.stringify({
      v: VERSION,
      name: backbone.name,
      size: backbone.inputSize,
      mean: backbone.mean,
      std: backbone.std,
      weights,
      seed: backbone.source?.seed,
      mode
    })
  )
  for (const it of items) {
    let stamp = 'missing'
    try {
      const st = fs.statSync(it.path)
      stamp = `${st.size}:${Math.round(st.mtimeMs)}`
    } catch {
      // A missing file fails later when decoded, with its own message.
    }
    h.update(`\n${path.resolve(it.path)}\t${stamp}`)
  }
  return h.digest('hex')
}

/** Reads a cache file; null when missing, truncated, corrupt or for another key. */
export function readFeatureFile(file: string, keyHex: string): FeatureSet | null {
  let buf: Buffer
  try {
    buf = fs.readFileSync(file)
  } catch {
    return null
  }
  if (buf.length < HEADER || buf.readUInt32LE(0) !== MAGIC || buf.readUInt32LE(4) !== VERSION)
    return null
  const count = buf.readUInt32LE(8)
  const dim = buf.readUInt32LE(12)
  if (buf.length !== HEADER + count * dim * 4) return null
  if (!buf.subarray(16, 48).equals(Buffer.from(keyHex, 'hex'))) return null
  const payload = buf.subarray(HEADER)
  if (!createHash('sha256').update(payload).digest().equals(buf.subarray(48, 80))) return null
  const features = new Float32Array(count * dim)
  new Uint8Array(features.buffer).set(payload)
  return { features, dim }
}

/**
 * Whether valid-looking cached features exist for these items (header and size checked, the
 * payload hash is not: that is extractFeatures' job). Used by estimates, which must not read
 * whole files.
 */
export function hasCachedFeatures(
  backbone: Backbone,
  items: { path: string }[],
  opts: { cacheDir: string; cacheKey: string; mode?: EmbedMode }
): boolean {
  const key = featureKey(backbone, items, opts.mode ?? 'test')
  const file = featureFilePath(opts.cacheDir, opts.cacheKey, key)
  let fd: number | null = null
  try {
    fd = fs.openSync(file, 'r')
    const header = Buffer.alloc(HEADER)
    if (fs.readSync(fd, header, 0, HEADER, 0) !== HEADER) return false
    if (header.readUInt32LE(0) !== MAGIC || header.readUInt32LE(4) !== VERSION) return false
    const count = header.readUInt32LE(8)
    const dim = header.readUInt32LE(12)
    return (
      count === items.length &&
      dim === backbone.featureChannels &&
      fs.fstatSync(fd).size === HEADER + count * dim * 4 &&
      header.subarray(16, 48).equals(Buffer.from(key, 'hex'))
    )
  } catch {
    return false
  } finally {
    if (fd !== null) fs.closeSync(fd)
  }
}

/** Workers extractFeatures uses for this many items (1: in-process). */
export function featureWorkers(backbone: Backbone, items: number): number {
  // On a GPU the backbone runs on the device in this process: worker threads would each open
  // their own device and compete for it. On the CPU one worker per core uses every core.
  const onGpu = GPU_BACKENDS.has(tf.getBackend() as BackendName)
  return items > POOL_THRESHOLD && backbone.source && !onGpu ? Math.min(os.cpus().length, 4) : 1
}

/** Writes a cache file atomically (temp file + rename). */
export function writeFeatureFile(file: string, keyHex: string, set: FeatureSet): void {
  const payload = Buffer.from(set.features.buffer, set.features.byteOffset, set.features.byteLength)
  const header = Buffer.alloc(HEADER)
  header.writeUInt32LE(MAGIC, 0)
  header.writeUInt32LE(VERSION, 4)
  header.writeUInt32LE(set.features.length / set.dim, 8)
  header.writeUInt32LE(set.dim, 12)
  Buffer.from(keyHex, 'hex').copy(header, 16)
  createHash('sha256').update(payload).digest().copy(header, 48)
  fs.mkdirSync(path.dirname(file), { recursive: true })
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`
  fs.writeFileSync(tmp, Buffer.concat([header, payload]))
  fs.renameSync(tmp, file)
}

/** The cache file path for a key. */
export function featureFilePath(cacheDir: string, cacheKey: string, keyHex: string): string {
  const safe = cacheKey.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 100) || 'features'
  return path.join(cacheDir, `${safe}-${keyHex.slice(0, 16)}.feat`)
}

/**
 * Pooled features of `items` through a frozen backbone, from the disk cache when valid, else
 * computed (in a worker pool for large sets) and stored. Stale files of the same cacheKey are
 * removed after a successful write.
 */
export async function extractFeatures(
  backbone: Backbone,
  items: { path: string }[],
  opts: ExtractOptions
): Promise<FeatureSet> {
  const mode = opts.mode ?? 'test'
  const key = featureKey(backbone, items, mode)
  const file = featureFilePath(opts.cacheDir, opts.cacheKey, key)
  const cached = readFeatureFile(file, key)
  if (
    cached &&
    cached.dim === backbone.featureChannels &&
    cached.features.length === items.length * cached.dim
  ) {
    opts.onProgress?.(items.length, items.length)
    return cached
  }
  const paths = items.map((i) => i.path)
  const source = backbone.source
  const workers = opts.workers ?? featureWorkers(backbone, items.length)
  let set: FeatureSet
  if (workers > 1 && source) {
    const pool = await createEmbedPool({
      workers,
      spec: source.spec,
      modelsDir: source.modelsDir,
      seed: source.seed,
      batchSize: opts.batchSize
    })
    try {
      set = await pool.features(paths, mode, { onProgress: opts.onProgress, signal: opts.signal })
    } finally {
      await pool.close()
    }
  } else {
    const features = await embedImages(backbone, paths, mode, {
      batchSize: opts.batchSize,
      signal: opts.signal,
      onBatch: (done) => opts.onProgress?.(done, items.length)
    })
    set = { features, dim: backbone.featureChannels }
  }
  writeFeatureFile(file, key, set)
  const prefix = path.basename(file).slice(0, -'.feat'.length - 17)
  for (const f of fs.readdirSync(opts.cacheDir)) {
    if (
      f !== path.basename(file) &&
      f.startsWith(`${prefix}-`) &&
      f.endsWith('.feat') &&
      f.length === path.basename(file).length
    ) {
      fs.rmSync(path.join(opts.cacheDir, f), { force: true })
    }
  }
  return set
}
