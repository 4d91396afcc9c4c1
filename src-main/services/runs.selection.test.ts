/**
 * Model selection that costs no training classes (refit, the default), the below-baseline flag,
 * split labels on metrics, and evaluating a stopped run's best checkpoint — on a small real
 * dataset (16 Omniglot characters of two alphabets, copied into a temporary folder) with frozen
 * small-CNN features so that each run takes seconds.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type { AppEvent } from '../../src-preload/contract/events'
import { TrainConfig, type TrainConfigInput } from '../../src-preload/contract/runs'
import { importDataset } from '../datasets/importer'
import { getDatasetItems } from '../datasets/queries'
import { readGallery } from '../ml/eval/gallery'
import { checkBalancedBatches } from '../runs/configCheck'
import { buildJob } from '../runs/jobs'
import { evaluateBestCheckpoint } from '../runs/evaluateBest'
import { loadRunModel } from '../runs/inference'
import { galleryPath } from '../runs/paths'
import { isBelowBaseline } from '../runs/summary'
import type { FromTrainer } from '../trainer/protocol'
import { closeContext, createContext, type AppContext } from '../app/context'
import { createRunsService, type RunsServiceImpl } from './runs'
import { atEdge, type AtEdge } from './services.testutil'

const here = dirname(fileURLToPath(import.meta.url))
const OMNIGLOT = resolve(here, '..', '..', '..', 'shared', 'datasets', 'omniglot-background-small')

let dir: string
let ctx: AppContext
let datasetId: number

function makeDataset(to: string): void {
  const classes = readdirSync(OMNIGLOT)
    .filter((c) => /^(Greek|Latin)__/.test(c))
    .sort()
  const pick = [
    ...classes.filter((c) => c.startsWith('Greek')).slice(0, 8),
    ...classes.filter((c) => c.startsWith('Latin')).slice(0, 8)
  ]
  for (const c of pick) {
    mkdirSync(join(to, c), { recursive: true })
    for (const f of readdirSync(join(OMNIGLOT, c)))
      copyFileSync(join(OMNIGLOT, c, f), join(to, c, f))
  }
}

/** 8 training classes; valRatio 0.625 carves 5 of them (100 images), enough to select on. */
function config(over: Partial<TrainConfigInput> = {}): TrainConfigInput {
  return {
    datasetId,
    split: { kind: 'group', train: ['Greek'], test: ['Latin'] },
    backbone: { kind: 'small-cnn', inputSize: 32 },
    frozen: true,
    embeddingSize: 32,
    hgnnHidden: 16,
    batchSize: 16,
    epochs: 3,
    lr: 1e-3,
    valRatio: 0.625,
    seed: 7,
    ...over
  }
}

/** A runs service called as the dispatch calls it (payload defaults applied). */
function service(): AtEdge<'runs', RunsServiceImpl> {
  return atEdge('runs', createRunsService(ctx, { graceMs: 30_000 }))
}

/** Counts the convolution kernels this thread runs until stop() (the image model's work). */
function countConvKernels(): { stop(): number } {
  const engine = tf.engine()
  const spy = vi.spyOn(engine, 'runKernel')
  return {
    stop() {
      const n = spy.mock.calls.filter(([name]) => /conv/i.test(String(name))).length
      spy.mockRestore()
      return n
    }
  }
}

function nextEvent(pred: (e: AppEvent) => boolean): Promise<AppEvent> {
  return new Promise((res) => {
    const off = ctx.events.on((e) => {
      if (pred(e)) {
        off()
        res(e)
      }
    })
  })
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hist-selection-'))
  ctx = createContext(join(dir, 'data'), 'cli')
  makeDataset(join(dir, 'omni'))
  datasetId = (await importDataset(ctx, { path: join(dir, 'omni'), format: 'folder' })).dataset.id
})

afterAll(() => {
  closeContext(ctx)
  rmSync(dir, { recursive: true, force: true })
})

describe('refit: select the epoch count on validation, then train on all classes', () => {
  let refitR1: number

  it('is the default; the final model trained on all 8 classes and retrieval loads it', async () => {
    expect(TrainConfig.parse(config()).modelSelection).toBe('refit')
    const s = service()
    try {
      const run = await s.start(config())
      expect(await s.waitFor(run.id)).toBe('completed')
      const d = s.repo.detail(run.id)
      // Selection phase: 3 training classes (60 images → 3 batches of 16) for 3 epochs.
      expect(d.epochs.map((e) => e.epoch)).toEqual([1, 2, 3])
      expect(d.steps).toHaveLength(9)
      expect(d.log.map((l) => l.message).join('\n')).toMatch(
        /Refitting on all 8 training classes for [1-3] epochs: the longest training whose validation R@1/
      )
      expect(d.epochs[0].metrics.split).toBe('validation')
      expect(d.bestMetrics?.split).toBe('validation')
      expect(d.testMetrics?.split).toBe('test')
      expect(d.baselineMetrics?.split).toBe('test')
      expect(d.testFrom).toBe('final')
      expect(d.rawMetrics?.recall['1']).toBeGreaterThan(0)
      expect(typeof d.belowBaseline).toBe('boolean')
      const st = s.repo.resumeState(run.id)
      expect(st.bestCheckpoint).toBe('refit-final.ckpt')
      expect(existsSync(join(st.dir!, 'refit-final.ckpt'))).toBe(true)
      // The model retrieval loads is the one that made the gallery (the refit model).
      const ids = s.repo.galleryImageIds(run.id)
      const g = readGallery(galleryPath(ctx, run.id), { n: ids.length })
      const first = getDatasetItems(ctx, datasetId, 'test', d.config.split).find(
        (i) => i.imageId === ids[0]
      )!
      const m = await loadRunModel(ctx, run.id)
      try {
        const e = await m.embed([first.absPath])
        let dot = 0
        for (let j = 0; j < g.d; j++) dot += e[j] * g.data[j]
        expect(dot).toBeGreaterThan(0.999)
      } finally {
        m.dispose()
      }
      refitR1 = d.testMetrics!.recall['1']
    } finally {
      await s.shutdown()
    }
  })

  it('pauses inside the refit and resumes to exactly the same result', async () => {
    const { runTraining } = await import('../trainer/pipeline')
    const s = service()
    const cfg = TrainConfig.parse(config())
    const id = s.repo.create({
      name: 'refit pause',
      datasetId,
      datasetName: 'omni',
      config: cfg,
      appVersion: 'test'
    })
    await s.shutdown()
    const runDir = join(dir, 'refit-pause')
    const msgs: FromTrainer[] = []
    let inRefit = false
    const send = (m: FromTrainer): void => {
      msgs.push(m)
      if (m.type === 'progress' && m.progress.phase === 'refit') inRefit = true
    }
    const signal = new AbortController().signal
    await runTraining(
      buildJob(ctx, { runId: id, config: cfg, runDir, checkpoint: null, hasBaseline: false }),
      send,
      { signal, pauseRequested: () => inRefit }
    )
    const paused = msgs.find((m) => m.type === 'paused')
    expect(paused?.type === 'paused' && paused.checkpoint).toMatch(/^refit-epoch-/)
    expect(msgs.some((m) => m.type === 'result')).toBe(false)
    const resumed: FromTrainer[] = []
    await runTraining(
      buildJob(ctx, {
        runId: id,
        config: cfg,
        runDir,
        checkpoint: paused?.type === 'paused' ? paused.checkpoint : null,
        hasBaseline: true
      }),
      (m) => void resumed.push(m),
      { signal, pauseRequested: () => false }
    )
    const result = resumed.find((m) => m.type === 'result')
    expect(result?.type === 'result' && result.testMetrics.recall['1']).toBe(refitR1)
    // No selection epoch runs again after a refit checkpoint.
    expect(resumed.some((m) => m.type === 'epoch')).toBe(false)
  })

  it('skips selection on a split too small to select, with a warning, and trains all classes', async () => {
    const s = service()
    try {
      const run = await s.start(config({ valRatio: 0.25, epochs: 2 }))
      expect(await s.waitFor(run.id)).toBe('completed')
      const d = s.repo.detail(run.id)
      expect(d.log.find((l) => l.level === 'warn')?.message).toMatch(
        /No epoch selection: the validation split has 2 classes and 40 images, too few/
      )
      expect(d.epochs).toHaveLength(2)
      expect(d.steps).toHaveLength(20) // all 8 classes: 160 images / 16, 2 epochs
      // The epochs were monitored on test, labelled so, and nothing was selected on them.
      expect(d.epochs.map((e) => e.metrics.split)).toEqual(['test', 'test'])
      expect(d.bestEpoch).toBeNull()
      expect(d.testMetrics?.split).toBe('test')
    } finally {
      await s.shutdown()
    }
  })
})

describe('a small validation split the config accepts (the demo preset)', () => {
  it('selects on it with an info line instead of a warning; without it, val warns', async () => {
    const s = service()
    try {
      const small = { modelSelection: 'val', valRatio: 0.25, epochs: 2 } as const
      const warned = await s.start(config(small))
      expect(await s.waitFor(warned.id)).toBe('completed')
      expect(s.repo.detail(warned.id).log.find((l) => l.level === 'warn')?.message).toMatch(
        /Model selection is unreliable: the validation split has 2 classes and 40 images/
      )
      const run = await s.start(config({ ...small, acceptSmallValidation: true }))
      expect(await s.waitFor(run.id)).toBe('completed')
      const d = s.repo.detail(run.id)
      // (Other warnings, e.g. below the untrained baseline on this tiny run, are not about selection.)
      expect(
        d.log.filter((l) => l.level === 'warn' && /selection|validation split/i.test(l.message))
      ).toEqual([])
      expect(d.log.find((l) => /Small validation split/.test(l.message))).toMatchObject({
        level: 'info',
        message: expect.stringMatching(/2 classes and 40 images.*accepted by the config/)
      })
      // The same selection as the warned run: 6 classes train, the best validation epoch is kept.
      expect(d.steps).toHaveLength(s.repo.detail(warned.id).steps.length)
      expect(d.bestMetrics?.split).toBe('validation')
      expect(d.bestEpoch).not.toBeNull()
    } finally {
      await s.shutdown()
    }
  })
})

describe('stopped runs: evaluating the best checkpoint', () => {
  it('gives a stopped run test metrics, a gallery and per-query rows; its status stays', async () => {
    const s = service()
    try {
      const run = await s.start(config({ modelSelection: 'val', epochs: 30 }))
      await nextEvent((e) => e.type === 'run.epoch' && e.runId === run.id)
      await s.stop({ id: run.id })
      expect(s.repo.get(run.id).status).toBe('cancelled')
      expect(s.repo.get(run.id).testMetrics).toBeNull()
      // Before: the test split embedded in this thread (the in-process model, injected).
      const kernels = countConvKernels()
      await evaluateBestCheckpoint(ctx, s.repo, run.id, { loadModel: loadRunModel })
      const inProcess = {
        metrics: s.repo.get(run.id).testMetrics,
        queries: s.repo.queries(run.id),
        gallery: readGallery(galleryPath(ctx, run.id), { n: 160 }).data
      }
      expect(kernels.stop()).toBeGreaterThan(0) // the spy sees this thread's convolutions
      // Now (the service's default): in a worker thread; this thread's timers keep firing.
      const tensors = tf.memory().numTensors
      const convs = countConvKernels()
      let ticks = 0
      const timer = setInterval(() => void ticks++, 1)
      let r: Awaited<ReturnType<typeof s.evaluateBest>>
      try {
        r = await s.evaluateBest({ id: run.id })
      } finally {
        clearInterval(timer)
      }
      expect(convs.stop()).toBe(0)
      expect(ticks).toBeGreaterThanOrEqual(10)
      expect(tf.memory().numTensors).toBe(tensors)
      // The same results as embedding in-process.
      expect(r.testMetrics!.recall).toEqual(inProcess.metrics!.recall)
      expect(r.testMetrics!.mapAtR).toBeCloseTo(inProcess.metrics!.mapAtR, 6)
      expect(r.testMetrics!.nmi).toBeCloseTo(inProcess.metrics!.nmi!, 6)
      expect(s.repo.queries(run.id).map((q) => [q.imageId, q.correctAt1])).toEqual(
        inProcess.queries.map((q) => [q.imageId, q.correctAt1])
      )
      const gallery = readGallery(galleryPath(ctx, run.id), { n: 160 }).data
      let maxDiff = 0
      for (let i = 0; i < gallery.length; i++)
        maxDiff = Math.max(maxDiff, Math.abs(gallery[i] - inProcess.gallery[i]))
      expect(maxDiff).toBeLessThan(1e-5)
      expect(r.status).toBe('cancelled')
      expect(r.testFrom).toBe('best-checkpoint')
      expect(r.testMetrics?.split).toBe('test')
      expect(r.testMetrics?.recall['1']).toBeGreaterThan(0)
      expect(r.bestMetrics?.split).toBe('validation')
      expect(s.repo.galleryImageIds(run.id)).toHaveLength(160)
      expect(s.repo.queries(run.id)).toHaveLength(160)
      expect(existsSync(galleryPath(ctx, run.id))).toBe(true)
      await expect(s.evaluateBest({ id: run.id })).resolves.toMatchObject({
        testFrom: 'best-checkpoint'
      })
    } finally {
      await s.shutdown()
    }
  })

  it('refuses a completed run and a run without any checkpoint, naming why, as a conflict', async () => {
    const s = service()
    try {
      const done = s.repo.list().find((r) => r.status === 'completed')!
      await expect(s.evaluateBest({ id: done.id })).rejects.toThrow(/is completed/)
      // A state conflict (409), not an internal error.
      await expect(s.evaluateBest({ id: done.id })).rejects.toMatchObject({ code: 'conflict' })
      const run = await s.start(config({ epochs: 1 }))
      await s.stop({ id: run.id })
      await s.waitFor(run.id)
      if (s.repo.resumeState(run.id).bestCheckpoint === null)
        await expect(s.evaluateBest({ id: run.id })).rejects.toThrow(/no checkpoint/)
    } finally {
      await s.shutdown()
    }
  })
})

describe('seed groups from the CLI (--seeds)', () => {
  it('queues one run per seed of the same config and reports each', async () => {
    const { trainSeeds } = await import('../cli/seeds')
    const s = service()
    const lines: string[] = []
    try {
      const runs = await trainSeeds(
        s,
        config({ epochs: 1, name: 'grp' }),
        [11, 12],
        (l) => void lines.push(l)
      )
      expect(runs.map((r) => [r.config.seed, r.status, r.name])).toEqual([
        [11, 'completed', 'grp · seed 11'],
        [12, 'completed', 'grp · seed 12']
      ])
      expect(lines.at(-1)).toMatch(/Seed group of 2 runs: test R@1 \d+\.\d ± \d+\.\d/)
    } finally {
      await s.shutdown()
    }
  })
})

describe('below-baseline flag', () => {
  const m = (r1: number) => ({ recall: { '1': r1 }, rPrecision: 0, mapAtR: 0 })
  it('is set only when the trained test R@1 is below the untrained one', () => {
    expect(isBelowBaseline(m(0.467), m(0.781))).toBe(true)
    expect(isBelowBaseline(m(0.8), m(0.781))).toBe(false)
    expect(isBelowBaseline(null, m(0.781))).toBe(false)
    expect(isBelowBaseline(m(0.5), null)).toBe(false)
  })
})

describe('a config whose balanced batches cannot be filled', () => {
  it('is refused at runs.start naming batchSize, before a run is queued', async () => {
    const svc = service()
    const before = (await svc.list({})).length
    // 8 training classes, 'val' carves 5 of them: 3 remain, a batch of 32 at 4 per class needs 8.
    const bad = config({
      loss: 'triplet',
      sampler: 'balanced',
      batchSize: 32,
      ipc: 4,
      modelSelection: 'val'
    })
    await expect(svc.start(bad)).rejects.toMatchObject({
      code: 'invalid_payload',
      issues: [
        {
          path: 'batchSize',
          message: expect.stringMatching(/need 8 classes.*only 3.*validation carve/)
        }
      ]
    })
    expect((await svc.list({})).length).toBe(before)
    // Without the carve all 8 classes train: exactly enough.
    expect(() =>
      checkBalancedBatches(ctx, TrainConfig.parse({ ...bad, modelSelection: 'test' }))
    ).not.toThrow()
  })
})
