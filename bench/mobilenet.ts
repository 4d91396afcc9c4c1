/**
 * MobileNetV2 (nsfwjs, 224 px) embedding throughput, decoding included, on real Omniglot PNGs,
 * with the worker pool over all cores. Reference: PyTorch CPU 29.7 img/s on one thread, 48.1 on
 * two.
 *
 *   npx tsx bench/mobilenet.ts            prints images/s, writes bench/results/mobilenet.json
 *   npx tsx bench/mobilenet.ts --recall   also R@1/2/4/8 of the raw pooled features on the
 *                                         Omniglot test alphabets (reference: 56.8 R@1)
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { createEmbedPool } from '../src-main/ml/data/embedPool'

const here = path.dirname(fileURLToPath(import.meta.url))

/** The Omniglot folder of the shared datasets (sibling of the repo), or HIST_DATASETS_DIR. */
export function omniglotDir(): string {
  const base = process.env.HIST_DATASETS_DIR ?? path.resolve(here, '..', '..', 'shared', 'datasets')
  return path.join(base, 'omniglot-background-small')
}

/** Image paths and class labels of the given alphabets (sorted, so runs are comparable). */
export function omniglotItems(alphabets?: string[]): { paths: string[]; labels: Int32Array } {
  const root = omniglotDir()
  const classes = fs
    .readdirSync(root)
    .filter((d) => !alphabets || alphabets.includes(d.split('__')[0]))
    .sort()
  const paths: string[] = []
  const labels: number[] = []
  classes.forEach((c, k) => {
    for (const f of fs.readdirSync(path.join(root, c)).sort()) {
      paths.push(path.join(root, c, f))
      labels.push(k)
    }
  })
  return { paths, labels: Int32Array.from(labels) }
}

/** CPU seconds (all threads of this process) per image in the last benchMobilenet run. */
export let lastCpuSecondsPerImage = NaN

/** Embedded images per second (MobileNetV2, 224 px, 'cover' decode), using every core. */
export async function benchMobilenet(
  opts: { images?: number; workers?: number } = {}
): Promise<number> {
  const { paths } = omniglotItems()
  const n = Math.min(opts.images ?? 384, paths.length)
  // Spread over classes rather than the first few folders.
  const step = Math.floor(paths.length / n)
  const sample = Array.from({ length: n }, (_, i) => paths[i * step])
  const pool = await createEmbedPool({
    workers: opts.workers ?? os.cpus().length,
    spec: { kind: 'mobilenetv2' },
    modelsDir: path.join(os.tmpdir(), 'hist-bench-models')
  })
  try {
    // Warm-up (wasm compilation, XNNPACK operator creation) is not timed.
    await pool.features(sample.slice(0, 64), 'cover')
    const t0 = performance.now()
    // process.cpuUsage counts every thread, so it also shows the cost on a busy machine.
    const c0 = process.cpuUsage()
    await pool.features(sample, 'cover')
    const c = process.cpuUsage(c0)
    lastCpuSecondsPerImage = (c.user + c.system) / 1e6 / n
    return (n * 1000) / (performance.now() - t0)
  } finally {
    await pool.close()
  }
}

/** Recall@K with cosine similarity, the query excluded (tiny O(N²) helper for the check below). */
export function recallAtK(
  features: Float32Array,
  dim: number,
  labels: Int32Array,
  ks: number[]
): number[] {
  const n = labels.length
  const x = new Float32Array(features)
  for (let i = 0; i < n; i++) {
    let s = 0
    for (let d = 0; d < dim; d++) s += x[i * dim + d] ** 2
    const inv = 1 / Math.max(Math.sqrt(s), 1e-12)
    for (let d = 0; d < dim; d++) x[i * dim + d] *= inv
  }
  const maxK = Math.max(...ks)
  const hits = ks.map(() => 0)
  const sims = new Float32Array(n)
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0
      for (let d = 0; d < dim; d++) s += x[i * dim + d] * x[j * dim + d]
      sims[j] = j === i ? -Infinity : s
    }
    const top = Array.from(sims.keys())
      .sort((a, b) => sims[b] - sims[a])
      .slice(0, maxK)
    ks.forEach((k, t) => {
      if (top.slice(0, k).some((j) => labels[j] === labels[i])) hits[t]++
    })
  }
  return hits.map((h) => (100 * h) / n)
}

/** R@1/2/4/8 of raw frozen MobileNetV2 pooled features on the Omniglot test alphabets. */
export async function omniglotRawRecall(): Promise<{
  recall: number[]
  seconds: number
  images: number
}> {
  const { paths, labels } = omniglotItems(['Korean', 'Latin', 'Sanskrit', 'Tagalog'])
  const t0 = performance.now()
  const pool = await createEmbedPool({
    workers: os.cpus().length,
    spec: { kind: 'mobilenetv2' },
    modelsDir: path.join(os.tmpdir(), 'hist-bench-models')
  })
  let out
  try {
    out = await pool.features(paths, 'cover')
  } finally {
    await pool.close()
  }
  const recall = recallAtK(out.features, out.dim, labels, [1, 2, 4, 8])
  return { recall, seconds: (performance.now() - t0) / 1000, images: paths.length }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const imagesPerSec = await benchMobilenet()
  console.log(imagesPerSec.toFixed(1))
  const workers = os.cpus().length
  const loadAverage = os.loadavg()[0]
  // What the CPU time implies with every core free (the wall figure suffers on a loaded machine).
  const cpuBoundImagesPerSec = workers / lastCpuSecondsPerImage
  console.log(
    `cpu ${(lastCpuSecondsPerImage * 1000).toFixed(1)} ms/image → ${cpuBoundImagesPerSec.toFixed(1)} img/s on ${workers} free cores (load average ${loadAverage.toFixed(1)})`
  )
  const result: Record<string, unknown> = {
    imagesPerSec,
    workers,
    cpuSecondsPerImage: lastCpuSecondsPerImage,
    cpuBoundImagesPerSec,
    loadAverage,
    reference: { torch1Thread: 29.7, torch2Threads: 48.1 }
  }
  if (process.argv.includes('--recall')) {
    const r = await omniglotRawRecall()
    console.log(
      `raw pooled features R@1/2/4/8: ${r.recall.map((v) => v.toFixed(1)).join(' / ')} (${r.images} images, ${r.seconds.toFixed(1)} s)`
    )
    result.omniglotRawRecall = r
  }
  const dir = path.join(here, 'results')
  fs.mkdirSync(dir, { recursive: true })
  fs.writeFileSync(
    path.join(dir, 'mobilenet.json'),
    JSON.stringify({ date: new Date().toISOString(), ...result }, null, 1)
  )
}
