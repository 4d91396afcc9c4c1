/**
 * HIST training-step benchmark (npm run bench:hist): ms per step of HIST + HGNN + GroupedAdam
 * over all their parameters, with the embeddings as a differentiated input (no backbone), at
 * CUB scale (N 32, C 100, D 512, hidden 512) and SOP scale (N 32, C 11,318, D 512, hidden 512).
 * Each scale runs in a fresh child process so that its peak RSS is its own. Writes
 * bench/results/hist.json. `--scale cub|sop` runs one scale in-process (prints JSON);
 * `--profile` adds the top kernels of one step.
 */
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import * as tf from '@tensorflow/tfjs'
import { initBackend } from '../src-main/ml/backend'
import { HistLoss } from '../src-main/ml/hist'
import { GroupedAdam } from '../src-main/ml/optim'

const here = path.dirname(fileURLToPath(import.meta.url))
const thisFile = fileURLToPath(import.meta.url)

/** One benchmark scale. */
interface Scale {
  /** Batch size. */
  n: number
  /** Training classes. */
  c: number
  /** Embedding size. */
  d: number
  /** HGNN hidden width. */
  hidden: number
  /** τ of the official preset. */
  tau: number
  /** α of the official preset. */
  alpha: number
}

const SCALES: Record<'cub' | 'sop', Scale> = {
  cub: { n: 32, c: 100, d: 512, hidden: 512, tau: 32, alpha: 1.1 },
  sop: { n: 32, c: 11318, d: 512, hidden: 512, tau: 16, alpha: 2 }
}

const WARMUP = 3
const STEPS = 20

/** Seeded uniform PRNG (mulberry32). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** A balanced batch as the official sampler draws it: n/4 random classes × 4 images. */
function labelsFor(rand: () => number, n: number, c: number): Int32Array {
  const out = new Int32Array(n)
  const ipc = Math.min(4, n)
  for (let i = 0; i < n; i += ipc) {
    const cls = Math.floor(rand() * c)
    for (let k = 0; k < ipc && i + k < n; k++) out[i + k] = cls
  }
  return out
}

async function runScale(name: 'cub' | 'sop', profile: boolean) {
  const s = SCALES[name]
  const report = await initBackend()
  const loss = new HistLoss({
    numClasses: s.c,
    embeddingSize: s.d,
    hgnnHidden: s.hidden,
    tau: s.tau,
    alpha: s.alpha,
    ls: 1,
    margin: 0,
    scale: 1,
    seed: 0
  })
  const rand = mulberry32(1)
  const x = tf.tidy(() =>
    tf.variable(tf.randomNormal([s.n, s.d], 0, 1, 'float32', 2), true, 'bench/x')
  )
  const opt = new GroupedAdam(
    [
      {
        name: 'distributions',
        variables: loss.paramGroups[0].variables,
        lr: 1e-1,
        weightDecay: 5e-5
      },
      { name: 'hgnn', variables: loss.paramGroups[1].variables, lr: 6e-4, weightDecay: 5e-5 },
      // Stands in for the embedding layer: the gradient w.r.t. the embeddings is computed and used.
      { name: 'embeddings', variables: [x], lr: 1.2e-4, weightDecay: 5e-5 }
    ],
    { decoupled: false }
  )
  const vars = [x, ...loss.paramGroups.flatMap((g) => g.variables)]
  const step = () => {
    const labels = tf.tensor1d(labelsFor(rand, s.n, s.c), 'int32')
    const { value, grads } = tf.variableGrads(
      () => loss.forward(x as unknown as tf.Tensor2D, labels).loss,
      vars
    )
    opt.applyGradients(grads)
    const v = value.dataSync()[0] // what a trainer reads for progress; also forces completion
    tf.dispose([labels, value, ...Object.values(grads)])
    return v
  }
  for (let i = 0; i < WARMUP; i++) step()
  const times: number[] = []
  const cpu: number[] = []
  let last = 0
  for (let i = 0; i < STEPS; i++) {
    const c0 = process.cpuUsage()
    const t0 = performance.now()
    last = step()
    times.push(performance.now() - t0)
    const c1 = process.cpuUsage(c0)
    cpu.push((c1.user + c1.system) / 1000)
  }
  times.sort((a, b) => a - b)
  cpu.sort((a, b) => a - b)
  let kernels: { name: string; ms: number; count: number }[] | undefined
  if (profile) {
    const info = await tf.profile(() => {
      step()
    })
    const agg = new Map<string, { ms: number; count: number }>()
    for (const k of info.kernels) {
      const key = `${k.name} ${JSON.stringify(k.inputShapes)}`
      const e = agg.get(key) ?? { ms: 0, count: 0 }
      e.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0
      e.count++
      agg.set(key, e)
    }
    console.error(`kernels per step: ${info.kernels.length}`)
    kernels = [...agg.entries()]
      .map(([n, e]) => ({ name: n, ...e }))
      .sort((a, b) => b.ms - a.ms)
      .slice(0, 200)
  }
  const result = {
    scale: name,
    backend: report.active,
    msPerStep: Math.round(times[Math.floor(times.length / 2)] * 10) / 10,
    minMs: Math.round(times[0] * 10) / 10,
    // CPU time of this process per step: much less sensitive than wall time to other load on the machine.
    cpuMsPerStep: Math.round(cpu[Math.floor(cpu.length / 2)] * 10) / 10,
    loadAvg: Math.round(os.loadavg()[0] * 10) / 10,
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    numTensors: tf.memory().numTensors,
    lastLoss: last,
    kernels
  }
  opt.dispose()
  loss.dispose()
  x.dispose()
  return result
}

async function mobilenetFigure(): Promise<number | null> {
  const file = path.join(here, 'mobilenet.ts')
  if (!fs.existsSync(file)) return null
  const mod = (await import('./mobilenet' as string)) as { benchMobilenet?: () => Promise<number> }
  return mod.benchMobilenet ? await mod.benchMobilenet() : null
}

/** The fields of one scale that go into hist.json. */
function pick(r: { msPerStep: number; peakRssMb: number; cpuMsPerStep: number; loadAvg: number }) {
  return {
    msPerStep: r.msPerStep,
    peakRssMb: r.peakRssMb,
    cpuMsPerStep: r.cpuMsPerStep,
    loadAvg: r.loadAvg
  }
}

async function main() {
  const args = process.argv.slice(2)
  const profile = args.includes('--profile')
  const i = args.indexOf('--scale')
  if (i >= 0) {
    const name = args[i + 1] as 'cub' | 'sop'
    if (!(name in SCALES)) throw new Error(`--scale must be cub or sop, got ${name}`)
    console.log(JSON.stringify(await runScale(name, profile)))
    return
  }
  const results: Record<
    string,
    { backend: string; msPerStep: number; peakRssMb: number; cpuMsPerStep: number; loadAvg: number }
  > = {}
  for (const name of ['cub', 'sop'] as const) {
    // A fresh process per scale, so that maxRSS is that scale's alone.
    const child = spawnSync(
      process.execPath,
      [...process.execArgv, thisFile, '--scale', name, ...(profile ? ['--profile'] : [])],
      {
        encoding: 'utf8',
        maxBuffer: 1 << 24
      }
    )
    if (child.status !== 0) throw new Error(`${name} run failed:\n${child.stderr}`)
    const line = child.stdout
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .pop()
    if (!line) throw new Error(`${name} run printed no result:\n${child.stdout}\n${child.stderr}`)
    results[name] = JSON.parse(line)
    const r = results[name]
    console.log(
      `${name}: ${r.msPerStep} ms/step (CPU ${r.cpuMsPerStep} ms, load ${r.loadAvg}), peak RSS ${r.peakRssMb} MB (${r.backend})`
    )
    if (profile) console.log(JSON.parse(line).kernels)
  }
  const mobilenet = await mobilenetFigure()
  const out = {
    backend: results.cub.backend,
    // cpuMsPerStep / loadAvg: context for the wall-clock figure on a shared machine.
    cub: pick(results.cub),
    sop: pick(results.sop),
    mobilenetv2ImagesPerSec: mobilenet
  }
  fs.mkdirSync(path.join(here, 'results'), { recursive: true })
  fs.writeFileSync(path.join(here, 'results', 'hist.json'), JSON.stringify(out, null, 2) + '\n')
  console.log(JSON.stringify(out))
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
