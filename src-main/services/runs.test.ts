/**
 * The run lifecycle with real trainer processes on a small real dataset (a 16-class subset of
 * Omniglot copied into a temporary folder): start → complete, pause/resume, stop, queue order,
 * SIGKILL mid-epoch then automatic resume, and the owner dying then recovery on restart.
 * Frozen small-CNN features keep each run to seconds; what is tested is the process, the
 * database and the checkpoints, and that an interrupted run ends exactly where an
 * uninterrupted one does.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AppEvent } from '../../src-preload/contract/events'
import type { TrainConfigInput } from '../../src-preload/contract/runs'
import { importDataset } from '../datasets/importer'
import { readGallery } from '../ml/eval/gallery'
import { importRunBundle } from '../runs/export'
import { loadRunModel } from '../runs/inference'
import { readNpy } from '../runs/npy'
import { galleryPath } from '../runs/paths'
import { RunsRepo } from '../runs/repo'
import { closeContext, createContext, type AppContext } from '../app/context'
import { createRunsService, type RunsServiceImpl } from './runs'
import { atEdge, type AtEdge } from './services.testutil'

const here = dirname(fileURLToPath(import.meta.url))
const OMNIGLOT = resolve(here, '..', '..', '..', 'shared', 'datasets', 'omniglot-background-small')

let dir: string
let ctx: AppContext
let datasetId: number
const events: AppEvent[] = []

/** Copies 8 characters of two alphabets (20 images each) into a temporary folder dataset. */
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

function config(over: Partial<TrainConfigInput> = {}): TrainConfigInput {
  return {
    datasetId,
    split: { kind: 'group', train: ['Greek'], test: ['Latin'] },
    backbone: { kind: 'small-cnn', inputSize: 32 },
    frozen: true,
    embeddingSize: 32,
    hgnnHidden: 16,
    batchSize: 16,
    epochs: 4,
    lr: 1e-3,
    // The keep-the-best-validation-epoch path (the refit default has its own tests).
    modelSelection: 'val',
    valRatio: 0.25,
    seed: 7,
    ...over
  }
}

/** A runs service called as the dispatch calls it (payload defaults applied). */
function service(): AtEdge<'runs', RunsServiceImpl> {
  return atEdge('runs', createRunsService(ctx, { graceMs: 30_000 }))
}

/** Resolves on the first event that matches. */
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

/** Everything a finished run must have, and no half-written epoch. */
function expectComplete(s: RunsServiceImpl, id: number, epochs: number): void {
  const d = s.repo.detail(id)
  expect(d.status).toBe('completed')
  expect(d.epochs.map((e) => e.epoch)).toEqual(Array.from({ length: epochs }, (_, i) => i + 1))
  expect(d.epochsDone).toBe(epochs)
  // Step records: one per step, numbered without gaps or repeats.
  expect(d.steps.map((x) => x.step)).toEqual(Array.from({ length: d.steps.length }, (_, i) => i))
  expect(d.steps.length).toBe(epochs * 7) // 7 batches of 16 from the 6 training classes (120 images)
  expect(d.baselineMetrics?.recall['1']).toBeGreaterThan(0)
  expect(d.testMetrics?.recall['1']).toBeGreaterThan(0)
  expect(d.bestEpoch).not.toBeNull()
  expect(s.repo.galleryImageIds(id)).toHaveLength(160)
  expect(s.repo.queries(id)).toHaveLength(160)
  expect(existsSync(galleryPath(ctx, id))).toBe(true)
  const st = s.repo.resumeState(id)
  const ckpts = readdirSync(st.dir!).filter((f) => f.includes('.ckpt'))
  // The last, the one before it (kept until its successor was verified) and the best.
  const kept = [st.checkpoint!, st.prevCheckpoint, st.bestCheckpoint!].filter(
    (c): c is string => !!c
  )
  expect(ckpts.sort()).toEqual([...new Set(kept)].sort())
  expect(st.prevCheckpoint).not.toBeNull()
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hist-runs-'))
  ctx = createContext(join(dir, 'data'), 'cli')
  ctx.events.on((e) => void events.push(e))
})

afterAll(() => {
  closeContext(ctx)
  rmSync(dir, { recursive: true, force: true })
})

describe('runs with a real trainer process', () => {
  let straight: { r1: number; steps: number[] }

  it('imports the small real dataset', async () => {
    makeDataset(join(dir, 'omni'))
    const res = await importDataset(ctx, { path: join(dir, 'omni'), format: 'folder' })
    datasetId = res.dataset.id
    expect(res.dataset.imageCount).toBe(320)
  })

  it('runs start → complete with records, checkpoints, gallery and throttled progress', async () => {
    const s = service()
    try {
      const run = await s.start(config())
      expect(run.status === 'queued' || run.status === 'running').toBe(true)
      const t0 = Date.now()
      expect(await s.waitFor(run.id)).toBe('completed')
      const seconds = (Date.now() - t0) / 1000
      expectComplete(s, run.id, 4)
      const d = s.repo.detail(run.id)
      expect(d.backend).toMatch(/wasm|cpu|tensorflow/)
      expect(d.config.split).toEqual({ kind: 'group', train: ['Greek'], test: ['Latin'] })
      expect(d.log.some((l) => /Validation split: 2 of the 8/.test(l.message))).toBe(true)
      const progress = events.filter(
        (e) => e.type === 'run.progress' && e.progress.runId === run.id
      )
      expect(progress.length).toBeGreaterThan(0)
      expect(progress.length).toBeLessThanOrEqual(Math.ceil(seconds * 8) + 20)
      expect(events.some((e) => e.type === 'run.epoch' && e.runId === run.id)).toBe(true)
      straight = { r1: d.testMetrics!.recall['1'], steps: d.steps.map((x) => x.loss) }

      // The in-process model of the run embeds images exactly as the trainer embedded the gallery.
      const ids = s.repo.galleryImageIds(run.id)
      const paths = ids.slice(0, 4).map((id) => {
        const r = ctx.db
          .prepare(
            'SELECT d.root AS root, i.rel_path AS rel FROM images i JOIN datasets d ON d.id = i.dataset_id WHERE i.id = ?'
          )
          .get(id) as { root: string; rel: string }
        return join(r.root, r.rel)
      })
      const model = await loadRunModel(ctx, run.id)
      try {
        const emb = await model.embed(paths)
        const g = readGallery(galleryPath(ctx, run.id))
        expect(model.dim).toBe(g.d)
        for (let k = 0; k < 4 * g.d; k++) expect(Math.abs(emb[k] - g.data[k])).toBeLessThan(1e-4)
      } finally {
        model.dispose()
      }

      // Export a bundle; import it on "another machine" and back here (gallery linked by path).
      const { path } = await s.exportRun({ id: run.id, outDir: join(dir, 'export') })
      for (const f of [
        'manifest.json',
        'config.json',
        'metrics.json',
        'model.ckpt',
        'embeddings.npy',
        'embeddings.csv'
      ])
        expect(existsSync(join(path, f))).toBe(true)
      expect(readNpy(join(path, 'embeddings.npy')).shape).toEqual([160, 32])
      const other = createContext(join(dir, 'other'), 'cli')
      try {
        const res = importRunBundle(other, path)
        expect(res.datasetId).toBeNull()
        expect(res.warnings.join(' ')).toMatch(/no dataset named/)
        expect(new RunsRepo(other.db).get(res.id).testMetrics).toEqual(d.testMetrics)
      } finally {
        closeContext(other)
      }
      const back = importRunBundle(ctx, path)
      expect(back.datasetId).toBe(datasetId)
      expect(s.repo.galleryImageIds(back.id)).toEqual(ids)
      expect(s.repo.get(back.id).status).toBe('completed')
      await s.remove({ id: back.id })
      expect(s.repo.find(back.id)).toBeNull()
    } finally {
      await s.shutdown()
    }
  })

  it('pauses at a batch boundary and resumes to exactly the same result', async () => {
    const s = service()
    try {
      const run = await s.start(config())
      await nextEvent((e) => e.type === 'run.epoch' && e.runId === run.id && e.record.epoch === 2)
      await s.pause({ id: run.id })
      expect(await s.waitFor(run.id)).toBe('paused')
      const paused = s.repo.get(run.id)
      expect(paused.epochsDone).toBeGreaterThanOrEqual(2)
      expect(paused.epochsDone).toBeLessThan(4)
      await s.resume({ id: run.id })
      expect(await s.waitFor(run.id)).toBe('completed')
      expectComplete(s, run.id, 4)
      const d = s.repo.detail(run.id)
      expect(d.steps.map((x) => x.loss)).toEqual(straight.steps)
      expect(d.testMetrics!.recall['1']).toBe(straight.r1)
    } finally {
      await s.shutdown()
    }
  })

  it('survives SIGKILL of the trainer mid-epoch: database intact, epochs kept, resumes and completes', async () => {
    const s = service()
    try {
      const run = await s.start(config())
      await nextEvent((e) => e.type === 'run.epoch' && e.runId === run.id && e.record.epoch === 2)
      // Mid-epoch 3: wait for one of its step records, then kill without warning.
      await nextEvent(
        (e) => e.type === 'run.steps' && e.runId === run.id && e.steps.some((x) => x.epoch === 3)
      )
      const pid = s.trainerPid()
      expect(pid).toBeGreaterThan(0)
      const restarted = nextEvent(
        (e) => e.type === 'run.log' && e.runId === run.id && /was killed/.test(e.entry.message)
      )
      process.kill(pid!, 'SIGKILL')
      await restarted
      expect(ctx.db.pragma('integrity_check', { simple: true })).toBe('ok')
      const mid = s.repo.detail(run.id)
      expect(mid.epochs.map((e) => e.epoch)).toEqual(
        Array.from({ length: mid.epochsDone }, (_, i) => i + 1)
      )
      expect(mid.epochsDone).toBeGreaterThanOrEqual(2)
      expect(mid.steps.every((x) => x.epoch <= mid.epochsDone + 1)).toBe(true)
      expect(await s.waitFor(run.id)).toBe('completed')
      expectComplete(s, run.id, 4)
      const d = s.repo.detail(run.id)
      expect(d.steps.map((x) => x.loss)).toEqual(straight.steps)
      expect(d.testMetrics!.recall['1']).toBe(straight.r1)
    } finally {
      await s.shutdown()
    }
  })

  it('resumes a run whose owner died, when the next owner starts', async () => {
    const s1 = service()
    const run = await s1.start(config())
    await nextEvent((e) => e.type === 'run.epoch' && e.runId === run.id && e.record.epoch === 1)
    await s1.shutdown() // the owner goes away; its trainer dies with it
    expect(s1.repo.get(run.id).status).toBe('running')
    // The next app start: a new owner process (simulated by forgetting the old owner's pid).
    ctx.db.prepare('UPDATE runs SET owner_pid = ? WHERE id = ?').run(2 ** 22 + 4321, run.id)
    const s2 = service()
    try {
      expect(await s2.waitFor(run.id)).toBe('completed')
      expectComplete(s2, run.id, 4)
      expect(s2.repo.detail(run.id).log.some((l) => /stopped unexpectedly/.test(l.message))).toBe(
        true
      )
    } finally {
      await s2.shutdown()
    }
  })

  it('queues runs one at a time and stops a running one', async () => {
    const s = service()
    try {
      const a = await s.start(config({ epochs: 40 }))
      const b = await s.start(config({ epochs: 2 }))
      await nextEvent((e) => e.type === 'run.epoch' && e.runId === a.id)
      expect(s.repo.get(b.id).status).toBe('queued')
      await s.stop({ id: a.id })
      expect(s.repo.get(a.id).status).toBe('cancelled')
      expect(await s.waitFor(b.id)).toBe('completed')
      const order = events
        .filter(
          (e) =>
            e.type === 'run.status' &&
            (e.runId === a.id || e.runId === b.id) &&
            e.status !== 'queued'
        )
        .map(
          (e) =>
            `${(e as { runId: number }).runId === a.id ? 'a' : 'b'}:${(e as { status: string }).status}`
        )
      expect(order.indexOf('a:cancelled')).toBeLessThan(order.indexOf('b:running'))
    } finally {
      await s.shutdown()
    }
  })

  it('probes a config by timing real batches, storing nothing', async () => {
    const s = service()
    try {
      const before = s.repo.list().length
      const p = await s.probe(config({ modelSelection: 'test' }))
      expect(p.batchesPerEpoch).toBe(10) // all 8 training classes: 160 images / 16
      expect(p.secondsPerEpoch).toBeGreaterThan(0)
      expect(p.memoryMb).toBeGreaterThan(0)
      expect(p.backend).toMatch(/wasm|cpu|tensorflow/)
      expect(p.warnings.join(' ')).toMatch(/test split/)
      expect(s.repo.list()).toHaveLength(before)
    } finally {
      await s.shutdown()
    }
  })
})
