/**
 * Fine-tuning speed on the CPU backends (npm run bench:finetune): one training step as a run
 * takes it, MobileNetV2 at 224 px, batch 32, backbone trainable, BatchNorm frozen (the HIST
 * default), HIST loss on 100 classes, Adam update included, as in issue 10.
 * Reference: PyTorch 1.13 takes about 4.2 s per batch-32 step on the same 2 cores.
 *
 * The step uses the micro-batch a run would use on the backend (microBatch 'auto': on wasm the
 * gradient cache with micro-batches of 8 at 224 px, see src-main/ml/train/accumulate.ts);
 * BENCH_MICRO=N forces N (N = batch: one tape over the whole batch), BENCH_BN_TRAIN=1 trains
 * BatchNorm (the plain layers graph, never split), BENCH_BATCH the batch
 * (default 32), BENCH_STEPS the measured steps (default 3, after one warm-up step),
 * HIST_BACKEND=cpu|wasm the backend.
 *
 * Writes bench/results/finetune.json (BENCH_OUT renames it) with the CPU ms per step (median
 * over the steps; robust on a shared machine: the wasm backend runs on one thread, so on an
 * idle machine wall ≈ CPU), the wall ms, the wasm heap peak and, with BENCH_PROFILE=1, the
 * kernels that dominate one step (tf.profile; kernels run inside substitute gradients are
 * counted both in themselves and in their parent, and times are wall times).
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import * as tf from '@tensorflow/tfjs'
import { TrainConfig } from '../src-preload/contract/runs'
import { initBackend } from '../src-main/ml/backend'
import { loadBackbone } from '../src-main/ml/models/backbones'
import { fusedConvActive } from '../src-main/ml/kernels'
import { resolveMicroBatch } from '../src-main/ml/train/accumulate'
import { TrainModel } from '../src-main/ml/train/model'
import { trainStep } from '../src-main/ml/train/step'

const here = path.dirname(fileURLToPath(import.meta.url))
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const SIZE = 224

async function main(): Promise<void> {
  const report = await initBackend({ only: [(process.env.HIST_BACKEND as 'wasm') ?? 'wasm'] })
  const batch = Number(process.env.BENCH_BATCH ?? 32)
  const steps = Number(process.env.BENCH_STEPS ?? 3)
  const bnTrain = process.env.BENCH_BN_TRAIN === '1'
  const micro = bnTrain
    ? batch
    : process.env.BENCH_MICRO
      ? Math.min(batch, Number(process.env.BENCH_MICRO))
      : resolveMicroBatch('auto', {
          batchSize: batch,
          backend: tf.getBackend(),
          inputSize: SIZE,
          splittable: true,
          fusedConv: fusedConvActive()
        })
  const cfg = TrainConfig.parse({
    datasetId: 1,
    frozen: false,
    warm: 0,
    batchSize: batch,
    microBatch: micro,
    bnFreeze: !bnTrain
  })
  const modelsDir = path.join(os.tmpdir(), 'hist-bench-models')
  const backbone = await loadBackbone({ kind: 'mobilenetv2' }, { modelsDir })
  const model = new TrainModel(cfg, { backbone, inChannels: 1280, numClasses: 100 })
  const x = tf.randomUniform([batch, SIZE, SIZE, 3], -1, 1, 'float32', 1)
  const y = tf.tensor1d(
    Array.from({ length: batch }, (_, i) => Math.floor(i / 4)),
    'int32'
  )
  const vars = model.trainableVariables(0)
  const step = async (i: number): Promise<{ wall: number; cpu: number }> => {
    const c0 = process.cpuUsage()
    const t = performance.now()
    await trainStep(model, x, y, vars, i, micro)
    const c = process.cpuUsage(c0)
    return { wall: performance.now() - t, cpu: (c.user + c.system) / 1000 }
  }
  // The wasm heap only grows, so its size is the peak (it cannot exceed 4 GB).
  const heapMb = () =>
    Math.round(
      ((tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } }).wasm?.HEAPU8?.length ?? 0) /
        2 ** 20
    )
  const load0 = os.loadavg()[0]
  await step(0)
  console.error(`warm-up step done, wasm heap ${heapMb()} MB`)
  const runs: { wall: number; cpu: number }[] = []
  for (let i = 1; i <= steps; i++) runs.push(await step(i))
  const cpu = median(runs.map((r) => r.cpu))
  const result: Record<string, unknown> = {
    backend: report.active,
    fastPaths: report.fastPaths?.filter((p) => p.active).map((p) => p.name),
    batch,
    microBatch: micro,
    bnFrozen: !bnTrain,
    inputSize: SIZE,
    trainableVariables: vars.length,
    cpuMsPerStep: Math.round(cpu),
    cpuMsPerStepAll: runs.map((r) => Math.round(r.cpu)),
    wallMsPerStep: Math.round(median(runs.map((r) => r.wall))),
    pytorchReferenceMsPerStep: 4200,
    overPytorch: Number(((cpu * (32 / batch)) / 4200).toFixed(2)),
    wasmHeapPeakMb: heapMb(),
    loadAverage: [Number(load0.toFixed(2)), Number(os.loadavg()[0].toFixed(2))]
  }
  console.log(result)
  if (process.env.BENCH_PROFILE === '1') {
    const info = await tf.profile(async () => {
      await trainStep(model, x, y, vars, steps + 1, micro)
    })
    const byName = new Map<string, { ms: number; calls: number }>()
    for (const k of info.kernels) {
      const e = byName.get(k.name) ?? { ms: 0, calls: 0 }
      e.ms += Number(k.kernelTimeMs) || 0
      e.calls++
      byName.set(k.name, e)
    }
    const top = [...byName.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 30)
    result.profile = Object.fromEntries(
      top.map(([n, e]) => [n, { ms: Math.round(e.ms), calls: e.calls }])
    )
    console.table(result.profile)
  }
  const out = path.join(here, 'results', process.env.BENCH_OUT ?? 'finetune.json')
  fs.mkdirSync(path.dirname(out), { recursive: true })
  fs.writeFileSync(out, JSON.stringify(result, null, 2) + '\n')
  console.log(`wrote ${path.relative(process.cwd(), out)}`)
  tf.dispose([x, y])
  model.dispose()
  backbone.dispose()
}

await main()
