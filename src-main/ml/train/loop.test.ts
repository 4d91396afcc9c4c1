import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TrainConfig } from '../../../src-preload/contract/runs'
import { initBackend } from '../backend'
import { loadBackbone } from '../models/backbones'
import { createRng } from '../util/rng'
import { Throttle } from './callbacks'
import { epochBatches, fit, type FitData, type FitOptions } from './loop'
import { TrainModel } from './model'
import { NonFiniteLossError } from './step'

// Small real problem: 8 classes × 8 images of 24-d "features" around class centres.
const C = 8
const PER = 8
const F = 24
const N = C * PER

function makeData(seed = 5): { feats: Float32Array; labels: Int32Array } {
  const rng = createRng(seed)
  const centres = Float32Array.from({ length: C * F }, () => rng.normal())
  const feats = new Float32Array(N * F)
  const labels = new Int32Array(N)
  for (let i = 0; i < N; i++) {
    const c = i % C
    labels[i] = c
    for (let j = 0; j < F; j++) feats[i * F + j] = centres[c * F + j] + 0.5 * rng.normal()
  }
  return { feats, labels }
}

const { feats, labels } = makeData()

function fitData(poison?: number): FitData {
  return {
    labels,
    load: (idx) => {
      const out = new Float32Array(idx.length * F)
      idx.forEach((r, i) => out.set(feats.subarray(r * F, (r + 1) * F), i * F))
      if (poison !== undefined && idx.includes(poison)) out[0] = NaN
      return tf.tensor2d(out, [idx.length, F])
    }
  }
}

function config(over: Partial<TrainConfig> = {}): TrainConfig {
  return TrainConfig.parse({
    datasetId: 1,
    embeddingSize: 16,
    hgnnHidden: 8,
    batchSize: 16,
    epochs: 2,
    lr: 1e-3,
    seed: 3,
    ...over
  })
}

function options(cfg: TrainConfig, extra: Partial<FitOptions> = {}): FitOptions {
  return {
    epochs: cfg.epochs,
    batchSize: cfg.batchSize,
    sampler: cfg.sampler,
    ipc: cfg.ipc,
    seed: cfg.seed,
    ...extra
  }
}

async function trainLosses(cfg: TrainConfig): Promise<number[]> {
  const model = new TrainModel(cfg, { backbone: null, inChannels: F, numClasses: C })
  const losses: number[] = []
  try {
    await fit(
      model,
      fitData(),
      options(cfg, { callbacks: { onBatchEnd: (l) => void losses.push(l.loss) } })
    )
  } finally {
    model.dispose()
  }
  return losses
}

beforeAll(async () => {
  await initBackend()
})
afterAll(() => {
  tf.disposeVariables()
})

describe('training loop', () => {
  it('repeats a run exactly with the same seed, and differs with another seed', async () => {
    const a = await trainLosses(config())
    const b = await trainLosses(config())
    const c = await trainLosses(config({ seed: 4 }))
    expect(a).toHaveLength(2 * Math.floor(N / 16))
    expect(a.every(Number.isFinite)).toBe(true)
    expect(b).toEqual(a)
    expect(c).not.toEqual(a)
  })

  it('learns: the loss goes down on a separable problem', async () => {
    const losses = await trainLosses(config({ epochs: 15, lr: 1e-2 }))
    const first = losses.slice(0, 4).reduce((s, x) => s + x, 0)
    const last = losses.slice(-4).reduce((s, x) => s + x, 0)
    expect(last).toBeLessThan(first * 0.8)
  })

  it.each(['hist', 'proxy-anchor', 'normalized-softmax', 'multi-similarity', 'triplet'] as const)(
    'does not leak tensors over 100 steps with the real %s loss',
    async (loss) => {
      const cfg = config({ epochs: 25, loss }) // 4 batches per epoch → 100 steps
      const before = tf.memory().numTensors
      const model = new TrainModel(cfg, { backbone: null, inChannels: F, numClasses: C })
      const counts: number[] = []
      try {
        await fit(
          model,
          fitData(),
          options(cfg, {
            callbacks: { onBatchEnd: () => void counts.push(tf.memory().numTensors) }
          })
        )
      } finally {
        model.dispose()
      }
      expect(counts).toHaveLength(100)
      // Same position in an epoch (batch 1 of 4; the next batch is prefetched at both).
      expect(counts[97]).toBe(counts[1])
      expect(Math.max(...counts.slice(1))).toBe(counts[1])
      expect(tf.memory().numTensors).toBe(before)
    }
  )

  it('resumes at a batch boundary exactly as if it had not stopped', async () => {
    const cfg = config({ epochs: 3 })
    const straight = await trainLosses(cfg)
    // Pause after the 6th step (inside epoch 2), save the state, rebuild and continue.
    let steps = 0
    const first: number[] = []
    const m1 = new TrainModel(cfg, { backbone: null, inChannels: F, numClasses: C })
    const paused = await fit(
      m1,
      fitData(),
      options(cfg, {
        shouldPause: () => steps >= 6,
        callbacks: { onBatchEnd: (l) => void (first.push(l.loss), steps++) }
      })
    )
    expect(paused.reason).toBe('paused')
    expect(paused.position).toEqual({ epoch: 1, batch: 2, step: 6 })
    const state = await m1.captureState()
    m1.dispose()
    const m2 = new TrainModel(cfg, { backbone: null, inChannels: F, numClasses: C })
    const rest: number[] = []
    try {
      m2.restoreState(state)
      const done = await fit(
        m2,
        fitData(),
        options(cfg, {
          start: paused.position,
          callbacks: { onBatchEnd: (l) => void rest.push(l.loss) }
        })
      )
      expect(done.reason).toBe('completed')
    } finally {
      m2.dispose()
    }
    expect([...first, ...rest]).toEqual(straight)
  })

  it('stops on a NaN loss before the update, naming the step and the part', async () => {
    const cfg = config({ epochs: 1 })
    const model = new TrainModel(cfg, { backbone: null, inChannels: F, numClasses: C })
    const before = model.head.getWeights()
    try {
      const batches = epochBatches(labels, options(cfg), 0)
      const poison = batches[2][0]
      const err = await fit(model, fitData(poison), options(cfg)).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(NonFiniteLossError)
      expect((err as NonFiniteLossError).step).toBe(2)
      expect((err as Error).message).toMatch(/lds|total loss|gradient/)
      expect((err as Error).message).toMatch(/step 2/)
      // The weights after step 1 are intact (finite).
      const w = model.head.getWeights()
      for (const t of Object.values(w)) expect(tf.all(tf.isFinite(t)).dataSync()[0]).toBe(1)
      tf.dispose(Object.values(w))
    } finally {
      tf.dispose(Object.values(before))
      model.dispose()
    }
  })

  it('cancels between batches', async () => {
    const cfg = config({ epochs: 5 })
    const model = new TrainModel(cfg, { backbone: null, inChannels: F, numClasses: C })
    const ac = new AbortController()
    let n = 0
    try {
      const res = await fit(
        model,
        fitData(),
        options(cfg, {
          signal: ac.signal,
          callbacks: { onBatchEnd: () => void (++n === 3 && ac.abort()) }
        })
      )
      expect(res.reason).toBe('cancelled')
      expect(n).toBe(3)
    } finally {
      model.dispose()
    }
  })

  it('loads two batches ahead and frees the unused ones when cancelled', async () => {
    const cfg = config({ epochs: 1 })
    const model = new TrainModel(cfg, { backbone: null, inChannels: F, numClasses: C })
    const ac = new AbortController()
    const base = fitData()
    const loaded: number[] = []
    let batchesRun = 0
    try {
      // Warm-up so that Adam's state and kernels exist before counting.
      await fit(model, base, options(cfg))
      const before = tf.memory().numTensors
      const res = await fit(
        model,
        { labels, load: (idx, rng) => (loaded.push(idx[0]), base.load(idx, rng)) },
        options(cfg, {
          signal: ac.signal,
          callbacks: {
            onBatchEnd: (l) => {
              // Batch 0 trained: batches 1 and 2 are loading already (4 batches per epoch).
              if (l.batch === 0) expect(loaded).toHaveLength(3)
              batchesRun++
              ac.abort()
            }
          }
        })
      )
      expect(res.reason).toBe('cancelled')
      expect(batchesRun).toBe(1)
      // The two prefetched batches are disposed once their loads settle.
      await new Promise((r) => setImmediate(r))
      expect(tf.memory().numTensors).toBe(before)
    } finally {
      model.dispose()
    }
  })

  it('calls the callbacks in tfjs order', async () => {
    const cfg = config({ epochs: 2 })
    const model = new TrainModel(cfg, { backbone: null, inChannels: F, numClasses: C })
    const seen: string[] = []
    try {
      await fit(
        model,
        fitData(),
        options(cfg, {
          callbacks: {
            onTrainBegin: () => void seen.push('trainBegin'),
            onEpochBegin: (e) => void seen.push(`epochBegin${e}`),
            onBatchEnd: (l) => void (l.batch === 0 && seen.push(`batch${l.epoch}`)),
            onEpochEnd: (l) => void seen.push(`epochEnd${l.epoch}`),
            onTrainEnd: (r) => void seen.push(`trainEnd:${r}`)
          }
        })
      )
    } finally {
      model.dispose()
    }
    expect(seen).toEqual([
      'trainBegin',
      'epochBegin0',
      'batch0',
      'epochEnd0',
      'epochBegin1',
      'batch1',
      'epochEnd1',
      'trainEnd:completed'
    ])
  })

  it('draws class-balanced batches with ipc images per class, dropping the last partial batch', () => {
    const cfg = config({ sampler: 'balanced', ipc: 4, batchSize: 16 })
    const batches = epochBatches(labels, options(cfg), 0)
    expect(batches.length).toBeGreaterThan(0)
    for (const b of batches) {
      expect(b).toHaveLength(16)
      const counts = new Map<number, number>()
      for (const i of b) counts.set(labels[i], (counts.get(labels[i]) ?? 0) + 1)
      expect([...counts.values()].every((v) => v === 4)).toBe(true)
    }
    // Random batches: every batch full (drop_last) and no image twice in an epoch.
    const rnd = epochBatches(labels, options(config({ batchSize: 24 })), 0)
    expect(rnd).toHaveLength(Math.floor(N / 24))
    expect(new Set(rnd.flat()).size).toBe(rnd.flat().length)
  })
})

describe('model parameter groups', () => {
  it("steps every group's learning rate down by γ every lrDecayStep epochs", () => {
    const cfg = config({
      loss: 'hist',
      lr: 1e-3,
      lrDs: 0.1,
      lrHgnnFactor: 5,
      lrDecayStep: 5,
      lrDecayGamma: 0.5
    })
    const model = new TrainModel(cfg, { backbone: null, inChannels: F, numClasses: C })
    try {
      expect(model.setEpoch(0)).toBeCloseTo(1e-3)
      expect(model.optimizer.getLr('distributions')).toBeCloseTo(0.1)
      expect(model.optimizer.getLr('hgnn')).toBeCloseTo(5e-3)
      expect(model.setEpoch(5)).toBeCloseTo(5e-4)
      expect(model.optimizer.getLr('distributions')).toBeCloseTo(0.05)
      expect(model.setEpoch(12)).toBeCloseTo(2.5e-4)
      expect(model.optimizer.getLr('hgnn')).toBeCloseTo(1.25e-3)
    } finally {
      model.dispose()
    }
  })

  it('keeps the backbone out of training during warm-up epochs (fine-tune mode)', async () => {
    const backbone = await loadBackbone(
      { kind: 'small-cnn', inputSize: 16 },
      { modelsDir: '/nonexistent', seed: 1 }
    )
    const cfg = config({
      frozen: false,
      warm: 2,
      backbone: { kind: 'small-cnn', inputSize: 16 },
      bnFreeze: false
    })
    const model = new TrainModel(cfg, {
      backbone,
      inChannels: backbone.featureChannels,
      numClasses: C
    })
    try {
      const bb = new Set(backbone.trainableVariables().map((v) => v.name))
      expect(bb.size).toBeGreaterThan(0)
      expect(model.trainableVariables(0).some((v) => bb.has(v.name))).toBe(false)
      expect(model.trainableVariables(1).some((v) => bb.has(v.name))).toBe(false)
      expect(model.trainableVariables(2).filter((v) => bb.has(v.name))).toHaveLength(bb.size)
      expect(model.optimizer.getLr('backbone')).toBeCloseTo(cfg.lr)
    } finally {
      model.dispose()
      backbone.dispose()
    }
  })
})

describe('Throttle', () => {
  it('lets a call through at most once per interval, forced calls always', () => {
    let t = 0
    const th = new Throttle(125, () => t)
    expect(th.ready()).toBe(true)
    t = 100
    expect(th.ready()).toBe(false)
    expect(th.ready(true)).toBe(true)
    t = 224
    expect(th.ready()).toBe(false)
    t = 226
    expect(th.ready()).toBe(true)
  })
})
