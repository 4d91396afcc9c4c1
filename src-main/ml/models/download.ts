/**
 * Downloadable ImageNet backbones from their official TF.js hosting, cached under modelsDir.
 *
 * Every file goes to `<name>.part` and is renamed only once complete and verified, so a failed or
 * aborted download never leaves a half file; `cache.json` (written last, also via rename) marks a
 * complete model and records each file's size and sha256, so later loads work offline and detect
 * a damaged cache. Checks per file: the size in the registry or else the Content-Length, the
 * sha256 where the registry knows it, and for the weight shards together the byte count that
 * model.json's weights manifest implies (this catches truncation even without checksums).
 */
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { manifestWeightBytes, type ModelJson } from './modelFiles'
import { invalidField } from '../../../src-preload/contract/errors'

/** A file's expected size and checksum, where known. */
export interface FileCheck {
  size?: number
  sha256?: string
}

/** One downloadable backbone. */
export interface DownloadableModel {
  /** Registry key, used in BackboneSpec { kind: 'download', name } and as the cache folder. */
  name: string
  /** Human-readable title for the UI. */
  title: string
  /** URL of model.json; shard URLs are resolved relative to it. */
  url: string
  /** Query string appended to every file URL (TF Hub serves TF.js files with ?tfjs-format=file). */
  query?: string
  /** 'layers' models are trainable, 'graph' models frozen. */
  format: 'layers' | 'graph'
  /** Feature layer (layers) or graph node; omitted: the model's own output. */
  featureNode?: string
  /** Square input side in px. */
  inputSize: number
  /** Per-channel mean/std applied to [0,1] pixels. */
  mean: [number, number, number]
  std: [number, number, number]
  /** Approximate total download size in bytes, for the UI before model.json is read. */
  approxBytes: number
  /** Known sizes/checksums by file name ('model.json', shard names); unknown ones are size-checked. */
  files?: Record<string, FileCheck>
}

const SGS = 'https://storage.googleapis.com/tfjs-models/tfjs'
const HUB = 'https://tfhub.dev/google/tfjs-model/imagenet'

/**
 * The built-in registry. Checksums of these files are not known here (this machine has no network
 * to compute them), so they are verified by Content-Length and the weights-manifest byte count,
 * and their sha256 is recorded at download time to check the cache afterwards.
 */
export const DOWNLOADABLE_MODELS: DownloadableModel[] = [
  {
    name: 'mobilenet_v1_1.0_224',
    title: 'MobileNet V1 1.0 (224 px, Keras LayersModel, trainable)',
    url: `${SGS}/mobilenet_v1_1.0_224/model.json`,
    format: 'layers',
    featureNode: 'conv_pw_13_relu',
    inputSize: 224,
    mean: [0.5, 0.5, 0.5],
    std: [0.5, 0.5, 0.5],
    approxBytes: 17_000_000
  },
  {
    name: 'mobilenet_v1_0.25_224',
    title: 'MobileNet V1 0.25 (224 px, Keras LayersModel, trainable, small)',
    url: `${SGS}/mobilenet_v1_0.25_224/model.json`,
    format: 'layers',
    featureNode: 'conv_pw_13_relu',
    inputSize: 224,
    mean: [0.5, 0.5, 0.5],
    std: [0.5, 0.5, 0.5],
    approxBytes: 1_900_000
  },
  {
    name: 'mobilenet_v2_100_224_feature_vector',
    title: 'MobileNet V2 1.0 feature vector (224 px, TF Hub GraphModel, frozen)',
    url: `${HUB}/mobilenet_v2_100_224/feature_vector/3/default/1/model.json`,
    query: '?tfjs-format=file',
    format: 'graph',
    inputSize: 224,
    mean: [0, 0, 0],
    std: [1, 1, 1],
    approxBytes: 9_000_000
  },
  {
    name: 'resnet_v2_50_feature_vector',
    title: 'ResNet-50 V2 feature vector (224 px, TF Hub GraphModel, frozen)',
    url: `${HUB}/resnet_v2_50/feature_vector/3/default/1/model.json`,
    query: '?tfjs-format=file',
    format: 'graph',
    inputSize: 224,
    mean: [0, 0, 0],
    std: [1, 1, 1],
    approxBytes: 95_000_000
  }
]

const extra = new Map<string, DownloadableModel>()

/** Adds (or replaces) a registry entry at run time, e.g. a mirror or a test server. */
export function registerDownloadable(entry: DownloadableModel): void {
  extra.set(entry.name, entry)
}

/** Finds a registry entry; an unknown name throws listing the known ones. */
export function findDownloadable(name: string): DownloadableModel {
  const e = extra.get(name) ?? DOWNLOADABLE_MODELS.find((m) => m.name === name)
  if (!e) {
    const known = [...DOWNLOADABLE_MODELS.map((m) => m.name), ...extra.keys()]
    throw invalidField(
      'backbone.name',
      `unknown downloadable backbone '${name}'; known: ${known.join(', ')}`
    )
  }
  return e
}

/** The cache marker written after a complete, verified download. */
interface CacheRecord {
  name: string
  url: string
  files: Record<string, { size: number; sha256: string }>
}

/** Options of downloadModel. */
export interface DownloadOptions {
  /** Called with bytes done and the (best known) total. */
  onProgress?: (doneBytes: number, totalBytes: number) => void
  signal?: AbortSignal
  /** Replaces global fetch (tests). */
  fetchImpl?: typeof fetch
}

function sha256File(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex')
}

/** The model's cache folder under modelsDir. */
export function modelCacheDir(entry: DownloadableModel, modelsDir: string): string {
  return path.join(modelsDir, entry.name.replace(/[^A-Za-z0-9._-]/g, '_'))
}

/** Checks a cached model against cache.json; returns the model.json path or null. */
export function verifyCache(entry: DownloadableModel, modelsDir: string): string | null {
  const dir = modelCacheDir(entry, modelsDir)
  const marker = path.join(dir, 'cache.json')
  if (!fs.existsSync(marker)) return null
  try {
    const rec = JSON.parse(fs.readFileSync(marker, 'utf8')) as CacheRecord
    if (rec.url !== entry.url) return null
    for (const [file, want] of Object.entries(rec.files)) {
      const p = path.join(dir, file)
      if (!fs.existsSync(p) || fs.statSync(p).size !== want.size || sha256File(p) !== want.sha256)
        return null
    }
    return path.join(dir, 'model.json')
  } catch {
    return null
  }
}

function fileUrl(entry: DownloadableModel, file: string): string {
  const u = file === 'model.json' ? entry.url : new URL(file, entry.url).href
  return entry.query ? `${u}${entry.query}` : u
}

/** Streams one URL into `dest` via `dest.part`; verifies size/sha256; returns its record. */
async function fetchFile(
  url: string,
  dest: string,
  check: FileCheck | undefined,
  opts: DownloadOptions,
  onBytes: (n: number) => void
): Promise<{ size: number; sha256: string }> {
  const doFetch = opts.fetchImpl ?? fetch
  const part = `${dest}.part`
  let res: Response
  try {
    res = await doFetch(url, { signal: opts.signal })
  } catch (err) {
    throw new Error(`cannot reach ${url}: ${(err as Error).message}`)
  }
  if (!res.ok || !res.body) throw new Error(`${url} answered HTTP ${res.status}`)
  const lengthHeader = res.headers.get('content-length')
  const expected = check?.size ?? (lengthHeader !== null ? Number(lengthHeader) : undefined)
  const hash = createHash('sha256')
  const fh = await fs.promises.open(part, 'w')
  let size = 0
  try {
    const reader = res.body.getReader()
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      hash.update(value)
      await fh.write(value)
      size += value.byteLength
      onBytes(value.byteLength)
    }
  } catch (err) {
    await fh.close()
    fs.rmSync(part, { force: true })
    throw new Error(`download of ${url} broke off after ${size} bytes: ${(err as Error).message}`)
  }
  await fh.close()
  const sha256 = hash.digest('hex')
  if (expected !== undefined && size !== expected) {
    fs.rmSync(part, { force: true })
    throw new Error(`download of ${url} is incomplete: got ${size} bytes, expected ${expected}`)
  }
  if (check?.sha256 && check.sha256.toLowerCase() !== sha256) {
    fs.rmSync(part, { force: true })
    throw new Error(
      `download of ${url} is corrupt: sha256 ${sha256} does not match ${check.sha256}`
    )
  }
  fs.renameSync(part, dest)
  return { size, sha256 }
}

/**
 * Makes sure `entry` is in the cache and returns the path of its model.json. A valid cache is
 * used without network; otherwise the files are downloaded and verified. Throws a readable error
 * (naming the model and URL) on any failure, leaving no partial files behind.
 */
export async function downloadModel(
  entry: DownloadableModel,
  modelsDir: string,
  opts: DownloadOptions = {}
): Promise<string> {
  const cached = verifyCache(entry, modelsDir)
  if (cached) return cached
  const dir = modelCacheDir(entry, modelsDir)
  fs.mkdirSync(dir, { recursive: true })
  fs.rmSync(path.join(dir, 'cache.json'), { force: true })
  let done = 0
  let total = entry.approxBytes
  const bump = (n: number): void => {
    done += n
    opts.onProgress?.(done, Math.max(total, done))
  }
  try {
    const rec: CacheRecord = { name: entry.name, url: entry.url, files: {} }
    const jsonPath = path.join(dir, 'model.json')
    rec.files['model.json'] = await fetchFile(
      fileUrl(entry, 'model.json'),
      jsonPath,
      entry.files?.['model.json'],
      opts,
      bump
    )
    let json: ModelJson
    try {
      json = JSON.parse(fs.readFileSync(jsonPath, 'utf8')) as ModelJson
    } catch {
      // Never quote the downloaded text (a JSON SyntaxError does).
      throw new Error(`model.json of ${entry.name} is not valid JSON (not a TF.js model)`)
    }
    if (!json || !json.modelTopology)
      throw new Error(`model.json of ${entry.name} is not a TF.js model (no modelTopology)`)
    const weightBytes = manifestWeightBytes(json)
    total = rec.files['model.json'].size + weightBytes
    let shardBytes = 0
    for (const group of json.weightsManifest ?? []) {
      for (const p of group.paths) {
        if (p.includes('..') || path.isAbsolute(p))
          throw new Error(`model.json names an unsafe shard path '${p}'`)
        const r = await fetchFile(
          fileUrl(entry, p),
          path.join(dir, p),
          entry.files?.[p],
          opts,
          bump
        )
        rec.files[p] = r
        shardBytes += r.size
      }
    }
    if (shardBytes !== weightBytes) {
      throw new Error(
        `weight shards hold ${shardBytes} bytes but model.json describes ${weightBytes}`
      )
    }
    const marker = path.join(dir, 'cache.json')
    fs.writeFileSync(`${marker}.part`, JSON.stringify(rec, null, 1))
    fs.renameSync(`${marker}.part`, marker)
    return jsonPath
  } catch (err) {
    for (const f of fs.readdirSync(dir))
      if (f.endsWith('.part')) fs.rmSync(path.join(dir, f), { force: true })
    const why = opts.signal?.aborted ? 'cancelled' : (err as Error).message
    throw new Error(`could not download backbone '${entry.name}' from ${entry.url}: ${why}`)
  }
}
