/**
 * Compute speed per TensorFlow.js backend: one child process per backend that this machine can
 * start (tensorflow-gpu, webgpu, tensorflow, wasm), each measuring
 * - headMsPerStep: one HIST training step of the embedding head (frozen backbone) on a batch of
 *   32 MobileNetV2 feature vectors (1280 → 512, 100 classes, HGNN 512);
 * - fineTuneMsPerStep: one fine-tuning step of MobileNetV2 at 224 px, batch 32, the whole
 *   backbone trainable (BN frozen, the HIST default), with the micro-batch a run would use on
 *   that backend (microBatch 'auto': on wasm 4 × 8 images through the gradient cache, one exact
 *   step for the batch of 32; see src-main/ml/train/accumulate.ts);
 * - embedImagesPerSec: MobileNetV2 forward + pooling at 224 px in batches of 32 (no decoding).
 * Warm-up steps (kernel compilation) are not timed. Writes bench/results/compute.json.
 *
 * A software WebGPU adapter (SwiftShader, lavapipe) implements the GPU on the CPU and is
 * orders of magnitude slower than a GPU: it is forced here (HIST_BACKEND=webgpu) to measure the
 * plumbing, and to keep the bench bounded its fine-tune and embedding figures are measured at
 * batch 2 (the smallest HIST batch) and scaled to batch 32 (marked in the JSON). When batch 32
 * still does not fit, the backend is measured again at batch 8 and scaled, also marked. The pure-JS 'cpu' backend is not
 * measured (a reference implementation, far slower than wasm).
 *
 *   npm run bench:compute            all backends that start
 *   npx tsx bench/compute.bench.ts --only wasm,webgpu
 *   npx tsx bench/compute.bench.ts --only wasm --smoke   plumbing check in seconds: 64 px, batch 8
 *                                    in micro-batches of 2; writes compute-smoke.json
 */
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import * as tf from '@tensorflow/tfjs'
import { TrainConfig } from '../src-preload/contract/runs'
import type { BackendName, GpuAdapterInfo } from '../src-preload/contract/system'
import { initBackend } from '../src-main/ml/backend'
import { loadBackbone } from '../src-main/ml/models/backbones'
import { poolFeatures } from '../src-main/ml/models/head'
import { fusedConvActive } from '../src-main/ml/kernels'
import { resolveMicroBatch } from '../src-main/ml/train/accumulate'
import { TrainModel } from '../src-main/ml/train/model'
import { trainStep } from '../src-main/ml/train/step'

const here = path.dirname(fileURLToPath(import.meta.url))
const CANDIDATES: BackendName[] = ['tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm']

/** One backend's figures. */
export interface ComputeResult {
  backend: BackendName
  adapter: string | null
  software: boolean
  headMsPerStep: number
  fineTuneMsPerStep: number
  embedImagesPerSec: number
  /** Batch the fine-tune and embedding figures were measured at (32 unless scaled). */
  measuredBatch: number
  /** Images per backbone pass of the fine-tune step (the batch is split when smaller). */
  microBatch: number
  /** Input side of the fine-tune and embedding figures (224 unless --smoke). */
  inputSize: number
  notes: string[]
}

const round = (x: number, d = 1): number => Math.round(x * 10 ** d) / 10 ** d

async function timeSteps(
  warmup: number,
  steps: number,
  run: (i: number) => Promise<void>
): Promise<number> {
  for (let i = 0; i < warmup; i++) await run(i)
  const t0 = performance.now()
  for (let i = 0; i < steps; i++) await run(warmup + i)
  return (performance.now() - t0) / steps
}

async function headStep(software: boolean): Promise<number> {
  const cfg = TrainConfig.parse({ datasetId: 1, frozen: true, batchSize: 32 })
  const model = new TrainModel(cfg, { backbone: null, inChannels: 1280, numClasses: 100 })
  const x = tf.randomUniform([32, 1280], 0, 1, 'float32', 1)
  const y = tf.tensor1d(
    Array.from({ length: 32 }, (_, i) => (i * 7) % 100),
    'int32'
  )
  try {
    const vars = model.trainableVariables(0)
    return await timeSteps(2, software ? 3 : 20, async (i) => {
      await trainStep(model, x, y, vars, i)
    })
  } finally {
    tf.dispose([x, y])
    model.dispose()
  }
}

async function fineTuneStep(
  batch: number,
  steps: number,
  micro: number,
  size: number
): Promise<number> {
  // The config's batch size is only a setting here (the step trains on x's rows); a software
  // adapter measures fewer rows than the contract's smallest batch, so the setting is clamped.
  const setting = Math.max(batch, 4)
  const cfg = TrainConfig.parse({
    datasetId: 1,
    frozen: false,
    warm: 0,
    batchSize: setting,
    microBatch: Math.min(micro, setting)
  })
  const backbone = await loadBackbone({ kind: 'mobilenetv2' }, { modelsDir: '/nonexistent' })
  const model = new TrainModel(cfg, { backbone, inChannels: 1280, numClasses: 100 })
  const x = tf.randomUniform([batch, size, size, 3], 0, 1, 'float32', 2)
  const y = tf.tensor1d(
    // 4 images per class; a tiny (software adapter) batch gets one image per class.
    Array.from({ length: batch }, (_, i) => Math.floor(i / (batch < 8 ? 1 : 4))),
    'int32'
  )
  try {
    const vars = model.trainableVariables(0)
    return await timeSteps(1, steps, async (i) => {
      await trainStep(model, x, y, vars, i, micro)
    })
  } finally {
    tf.dispose([x, y])
    model.dispose()
    backbone.dispose()
  }
}

async function embedRate(batch: number, batches: number, size: number): Promise<number> {
  const backbone = await loadBackbone({ kind: 'mobilenetv2' }, { modelsDir: '/nonexistent' })
  const x = tf.randomUniform([batch, size, size, 3], 0, 1, 'float32', 3)
  try {
    const ms = await timeSteps(1, batches, async () => {
      const f = tf.tidy(() => poolFeatures(backbone.apply(x as tf.Tensor4D, false)))
      await f.data()
      f.dispose()
    })
    return (batch * 1000) / ms
  } finally {
    x.dispose()
    backbone.dispose()
  }
}

/** Measures the backend this child process was started for; prints one JSON line. */
async function child(backend: BackendName): Promise<void> {
  const report = await initBackend({ only: [backend] })
  const a: GpuAdapterInfo | undefined = report.adapter
  const software = a?.software ?? false
  const notes: string[] = []
  const smoke = process.env.HIST_BENCH_SMOKE === '1'
  const size = smoke ? 64 : 224
  const full = smoke ? 8 : 32
  const batch = Number(process.env.HIST_BENCH_BATCH) || (software ? 2 : full)
  // The micro-batch a run would use here (MobileNetV2 at 224 px on wasm: the whole 32 with the
  // fused conv kernel, else 8 of the 32).
  const micro = smoke
    ? 2
    : resolveMicroBatch('auto', {
        batchSize: batch,
        backend,
        inputSize: size,
        splittable: true,
        fusedConv: fusedConvActive()
      })
  if (smoke) notes.push('smoke: 64 px, batch 8 in micro-batches of 2 (plumbing, not a figure)')
  if (micro < batch)
    notes.push(
      `fine-tune: batch ${batch} in ${Math.ceil(batch / micro)} micro-batches of ${micro} (gradient cache: one exact step for the batch)`
    )
  if (software)
    notes.push(
      `software adapter: fine-tune and embedding measured at batch ${batch} and scaled to 32 (plumbing, not GPU speed)`
    )
  if (process.env.HIST_BENCH_RETRY_NOTE) notes.push(process.env.HIST_BENCH_RETRY_NOTE)
  const log = (s: string): void => void process.stderr.write(`${backend}: ${s}\n`)
  const head = await headStep(software || smoke)
  log(`head ${round(head)} ms/step`)
  const fine = (await fineTuneStep(batch, software || smoke ? 1 : 2, micro, size)) * (full / batch)
  log(`fine-tune ${round(fine, 0)} ms/step`)
  const embed = await embedRate(batch, software || smoke ? 1 : 3, size)
  const res: ComputeResult = {
    backend,
    adapter: a ? `${a.vendor} ${a.architecture} (${a.description})` : null,
    software,
    headMsPerStep: round(head),
    fineTuneMsPerStep: round(fine, 0),
    embedImagesPerSec: round(embed, 2),
    measuredBatch: batch,
    microBatch: Math.min(micro, batch),
    inputSize: size,
    notes
  }
  process.stdout.write(`RESULT ${JSON.stringify(res)}\n`)
}

function runChild(
  backend: BackendName,
  extraEnv: Record<string, string> = {}
): { result?: ComputeResult; skipped?: string } {
  const res = spawnSync(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', backend],
    {
      env: { ...process.env, HIST_BACKEND: '', HIST_DEVICE: '', ...extraEnv },
      encoding: 'utf8',
      timeout: Number(process.env.HIST_BENCH_TIMEOUT_SEC ?? 3600) * 1000,
      maxBuffer: 64 * 2 ** 20
    }
  )
  const line = res.stdout.split('\n').find((l) => l.startsWith('RESULT '))
  if (line) return { result: JSON.parse(line.slice(7)) as ComputeResult }
  const err = res.stderr ?? ''
  const why =
    /NoDeviceError: (.*)/.exec(err)?.[1] ??
    /(RuntimeError: .*|XNN status .*)/.exec(err)?.[1] ??
    err
      .trim()
      .split('\n')
      .filter((l) => !/^\s+at /.test(l))
      .slice(-1)[0] ??
    `exit ${res.status}`
  return { skipped: why.slice(0, 300) }
}

async function main(): Promise<void> {
  const i = process.argv.indexOf('--child')
  if (i > 0) return child(process.argv[i + 1] as BackendName)
  const o = process.argv.indexOf('--only')
  const smoke = process.argv.includes('--smoke')
  const smokeEnv: Record<string, string> = smoke ? { HIST_BENCH_SMOKE: '1' } : {}
  const list = o > 0 ? (process.argv[o + 1].split(',') as BackendName[]) : CANDIDATES
  const results: ComputeResult[] = []
  const skipped: Record<string, string> = { cpu: 'not measured: the pure-JS reference backend' }
  for (const b of list) {
    process.stderr.write(`compute bench: ${b}…\n`)
    let r = runChild(b, smokeEnv)
    if (!r.result && !smoke && /memory|XNN/i.test(r.skipped ?? '')) {
      // Micro-batching should keep batch 32 within wasm's 4 GB heap; if it still does not fit:
      const note = `batch 32 failed (${r.skipped}); fine-tune and embedding measured at batch 8 and scaled to 32`
      process.stderr.write(`  ${note}\n`)
      r = runChild(b, { HIST_BENCH_BATCH: '8', HIST_BENCH_RETRY_NOTE: note })
    }
    if (r.result) {
      results.push(r.result)
      process.stderr.write(`  ${JSON.stringify(r.result)}\n`)
    } else {
      skipped[b] = r.skipped ?? 'unknown'
      process.stderr.write(`  skipped: ${skipped[b]}\n`)
    }
  }
  // With --only, the other backends' earlier figures are kept.
  const file = path.join(here, 'results', smoke ? 'compute-smoke.json' : 'compute.json')
  if (o > 0 && !smoke && fs.existsSync(file)) {
    const prev = JSON.parse(fs.readFileSync(file, 'utf8')) as {
      results?: ComputeResult[]
      skipped?: Record<string, string>
    }
    for (const r of prev.results ?? []) if (!list.includes(r.backend)) results.push(r)
    for (const [k, v] of Object.entries(prev.skipped ?? {}))
      if (!list.includes(k as BackendName)) skipped[k] = v
  }
  results.sort((a, b) => CANDIDATES.indexOf(a.backend) - CANDIDATES.indexOf(b.backend))
  const out = {
    date: new Date().toISOString(),
    node: process.version,
    note: 'The machine was shared with other jobs while measuring (noisy). A software WebGPU adapter is a CPU implementation: its figures show the plumbing works, not GPU speed.',
    reference:
      'PyTorch 1.13 on the same 2 cores: about 4200 ms per MobileNetV2 fine-tune step (224 px, batch 32)',
    results,
    skipped
  }
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.writeFileSync(file, JSON.stringify(out, null, 2) + '\n')
  process.stdout.write(JSON.stringify(out, null, 2) + '\n')
}

void main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`)
    process.exit(1)
  }
)
