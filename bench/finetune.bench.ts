/**
 * Fine-tuning speed on the CPU backends (npm run bench:finetune): one training step of
 * MobileNetV2 at 224 px, batch 32, backbone trainable (BN in training mode), as in issue 10.
 * Reference: PyTorch 1.13 takes about 4.2 s per step on the same 2 cores.
 *
 * Writes bench/results/finetune.json with forward ms/step, forward+backward ms/step (median of
 * BENCH_STEPS, default 3, after one warm-up step), CPU ms/step (robust on a shared machine: the
 * wasm backend runs on one thread, so on an idle machine wall ≈ CPU), the wasm heap peak and,
 * with BENCH_PROFILE=1, the kernels that dominate one step (tf.profile; kernels run inside
 * substitute gradients are counted both in themselves and in their parent).
 * BENCH_BATCH (default 16) changes the batch size; HIST_BACKEND=cpu|wasm. Batch 32 does not fit
 * the wasm backend's 4 GB heap (tfjs keeps every intermediate gradient until the backward pass
 * ends; the peak is ~2.6 GB at 16), so the default measures 16 and reports the cost of 32 images
 * as two such steps (gradient accumulation), next to PyTorch's 4.2 s for one step of 32.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import * as tf from '@tensorflow/tfjs'
import { initBackend } from '../src-main/ml/backend'
import { loadBackbone } from '../src-main/ml/models/backbones'

const here = path.dirname(fileURLToPath(import.meta.url))
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

async function main(): Promise<void> {
  const report = await initBackend({ only: [(process.env.HIST_BACKEND as 'wasm') ?? 'wasm'] })
  const batch = Number(process.env.BENCH_BATCH ?? 16)
  const steps = Number(process.env.BENCH_STEPS ?? 3)
  const modelsDir = path.join(os.tmpdir(), 'hist-bench-models')
  const bb = await loadBackbone({ kind: 'mobilenetv2' }, { modelsDir })
  const vars = bb.trainableVariables()
  const x = tf.randomUniform([batch, 224, 224, 3], -1, 1, 'float32', 1) as tf.Tensor4D
  const loss = () => tf.mean(tf.square(bb.apply(x, true))) as tf.Scalar
  const forward = (): number => {
    const t = performance.now()
    const v = tf.tidy(loss)
    v.dataSync()
    v.dispose()
    return performance.now() - t
  }
  const step = (): number => {
    const t = performance.now()
    const { value, grads } = tf.variableGrads(loss, vars)
    value.dataSync()
    tf.dispose([value, ...Object.values(grads)])
    return performance.now() - t
  }
  // The wasm heap only grows, so its size is the peak (it cannot exceed 4 GB).
  const heapMb = () =>
    Math.round(
      ((tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } }).wasm?.HEAPU8?.length ?? 0) /
        2 ** 20
    )
  const load0 = os.loadavg()[0]
  forward()
  const fwd = Array.from({ length: steps }, forward)
  console.error(`forward done, wasm heap ${heapMb()} MB`)
  step()
  console.error(`warm-up step done, wasm heap ${heapMb()} MB`)
  const c0 = process.cpuUsage()
  const full = Array.from({ length: steps }, step)
  const cpu = process.cpuUsage(c0)
  const result: Record<string, unknown> = {
    backend: report.active,
    fastPaths: report.fastPaths?.filter((p) => p.active).map((p) => p.name),
    batch,
    inputSize: 224,
    trainableVariables: vars.length,
    forwardMsPerStep: Math.round(median(fwd)),
    fineTuneMsPerStep: Math.round(median(full)),
    backwardOverForward: Number(((median(full) - median(fwd)) / median(fwd)).toFixed(2)),
    cpuMsPerStep: Math.round((cpu.user + cpu.system) / 1000 / steps),
    cpuMsPer32Images: Math.round(((cpu.user + cpu.system) / 1000 / steps) * (32 / batch)),
    pytorchReferenceMsPerStep: 4200,
    wasmHeapPeakMb: heapMb(),
    loadAverage: [Number(load0.toFixed(2)), Number(os.loadavg()[0].toFixed(2))]
  }
  console.log(result)
  if (process.env.BENCH_PROFILE === '1') {
    const info = await tf.profile(() => {
      const { value, grads } = tf.variableGrads(loss, vars)
      tf.dispose([value, ...Object.values(grads)])
    })
    const byName = new Map<string, { ms: number; calls: number }>()
    for (const k of info.kernels) {
      const e = byName.get(k.name) ?? { ms: 0, calls: 0 }
      e.ms += Number(k.kernelTimeMs) || 0
      e.calls++
      byName.set(k.name, e)
    }
    const top = [...byName.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 25)
    result.profile = Object.fromEntries(
      top.map(([n, e]) => [n, { ms: Math.round(e.ms), calls: e.calls }])
    )
    console.table(result.profile)
  }
  const out = path.join(here, 'results', process.env.BENCH_OUT ?? 'finetune.json')
  fs.mkdirSync(path.dirname(out), { recursive: true })
  fs.writeFileSync(out, JSON.stringify(result, null, 2) + '\n')
  console.log(`wrote ${path.relative(process.cwd(), out)}`)
  x.dispose()
  bb.dispose()
}

await main()
