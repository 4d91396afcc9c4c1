import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { AppEvent } from '../../src-preload/contract/events'
import { TrainConfig } from '../../src-preload/contract/runs'
import { closeContext, createContext, type AppContext } from '../app/context'
import type { FromTrainer, RunJob, ToTrainer } from '../trainer/protocol'
import { writeCheckpoint } from '../ml/train/checkpoints'
import { RunQueue } from './queue'
import { RunsRepo } from './repo'
import type { TrainerClient } from './trainerClient'

/** A trainer stand-in the test drives by hand. */
class FakeTrainer implements TrainerClient {
  pid = 999_999
  sent: ToTrainer[] = []
  private msg: ((m: FromTrainer) => void)[] = []
  private exit: ((c: number | null) => void)[] = []
  alive = true
  send(m: ToTrainer): void {
    this.sent.push(m)
  }
  kill(): void {
    this.die(null)
  }
  onMessage(l: (m: FromTrainer) => void): void {
    this.msg.push(l)
  }
  onInvalid(): void {}
  onExit(l: (c: number | null) => void): void {
    this.exit.push(l)
  }
  emit(m: FromTrainer): void {
    for (const l of this.msg) l(m)
  }
  die(code: number | null): void {
    if (!this.alive) return
    this.alive = false
    for (const l of this.exit) l(code)
  }
}

const metrics = (r1: number) => ({ recall: { '1': r1 }, rPrecision: 0.1, mapAtR: 0.1 })
const tick = () => new Promise((r) => setTimeout(r, 5))

let dir: string
let ctx: AppContext
let repo: RunsRepo
let trainers: FakeTrainer[]
let events: AppEvent[]
let datasetId: number

function makeQueue(pid = process.pid): RunQueue {
  return new RunQueue(ctx, repo, {
    buildJob: (id) =>
      ({ runId: id, checkpoint: repo.resumeState(id).checkpoint }) as unknown as RunJob,
    launch: () => {
      const t = new FakeTrainer()
      trainers.push(t)
      return t
    },
    pid,
    graceMs: 50
  })
}

/** Writes a (tiny, real) checkpoint file as the trainer would, at position epoch/batch/step. */
function ckpt(runId: number, name: string, epoch: number, batch: number, step: number): string {
  const dir = repo.resumeState(runId).dir!
  writeCheckpoint(join(dir, name), {
    meta: { version: 1, runId, position: { epoch, batch, step }, best: null, optimizerSteps: {} },
    sections: { head: [{ name: 'w', shape: [2], data: new Float32Array([1, 2]) }] }
  })
  return name
}

function newRun(q: RunQueue): number {
  const config = TrainConfig.parse({ datasetId, epochs: 3 })
  const id = repo.create({ name: null, datasetId, datasetName: 'ds', config, appVersion: 'test' })
  q.enqueue(id)
  return id
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hist-queue-'))
  ctx = createContext(dir, 'cli')
  repo = new RunsRepo(ctx.db)
  trainers = []
  events = []
  ctx.events.on((e) => void events.push(e))
  datasetId = Number(
    ctx.db.prepare("INSERT INTO datasets (name, root, format) VALUES ('ds', '/x', 'folder')").run()
      .lastInsertRowid
  )
})
afterEach(() => {
  closeContext(ctx)
  rmSync(dir, { recursive: true, force: true })
})

describe('run queue', () => {
  it('runs one training at a time, in queue order', async () => {
    const q = makeQueue()
    const a = newRun(q)
    const b = newRun(q)
    expect(trainers).toHaveLength(1)
    expect(repo.get(a).status).toBe('running')
    expect(repo.get(b).status).toBe('queued')
    expect(trainers[0].sent[0]).toMatchObject({ type: 'start', job: { runId: a } })
    trainers[0].emit({
      type: 'result',
      testMetrics: metrics(0.5),
      galleryFile: 'gallery.bin',
      galleryImageIds: [],
      queries: []
    })
    trainers[0].die(0)
    await tick()
    expect(repo.get(a).status).toBe('completed')
    expect(repo.get(a).testMetrics?.recall['1']).toBe(0.5)
    expect(trainers).toHaveLength(2)
    expect(repo.get(b).status).toBe('running')
    expect(
      events.some((e) => e.type === 'run.status' && e.runId === a && e.status === 'completed')
    ).toBe(true)
  })

  it('commits an epoch with its checkpoint and best pointer together, and forwards records as events', async () => {
    const q = makeQueue()
    const a = newRun(q)
    const t = trainers[0]
    t.emit({ type: 'steps', steps: [{ step: 0, epoch: 1, loss: 2, lds: 1.5, ce: 0.5, lr: 1e-4 }] })
    t.emit({
      type: 'epoch',
      record: { epoch: 1, metrics: metrics(0.4), seconds: 1, imagesPerSec: 10 },
      checkpoint: 'epoch-0001.ckpt',
      step: 1,
      best: { epoch: 1, metrics: metrics(0.4), checkpoint: 'epoch-0001.ckpt' }
    })
    t.emit({
      type: 'progress',
      progress: {
        epoch: 2,
        epochs: 3,
        batch: 1,
        batches: 4,
        etaSec: 3,
        imagesPerSec: 10,
        phase: 'train'
      }
    })
    const d = repo.detail(a)
    expect(d.steps).toEqual([{ step: 0, epoch: 1, loss: 2, lds: 1.5, ce: 0.5, lr: 1e-4 }])
    expect(d.epochs[0].metrics.recall['1']).toBe(0.4)
    expect(d.epochsDone).toBe(1)
    expect(d.bestEpoch).toBe(1)
    expect(repo.resumeState(a)).toMatchObject({
      checkpoint: 'epoch-0001.ckpt',
      bestCheckpoint: 'epoch-0001.ckpt',
      checkpointStep: 1
    })
    expect(
      events.some(
        (e) => e.type === 'run.progress' && e.progress.runId === a && e.progress.batch === 1
      )
    ).toBe(true)
    expect(events.some((e) => e.type === 'run.steps' && e.runId === a)).toBe(true)
    expect(events.some((e) => e.type === 'run.epoch' && e.runId === a)).toBe(true)
  })

  it('pauses a training run at a checkpoint and resumes it from there', async () => {
    const q = makeQueue()
    const a = newRun(q)
    q.pause(a)
    expect(trainers[0].sent.at(-1)).toEqual({ type: 'pause' })
    trainers[0].emit({
      type: 'paused',
      checkpoint: ckpt(a, 'epoch-0001-batch-000002.ckpt', 1, 2, 6),
      step: 6,
      epoch: 1
    })
    trainers[0].die(0)
    await tick()
    expect(repo.get(a).status).toBe('paused')
    expect(repo.resumeState(a).checkpoint).toBe('epoch-0001-batch-000002.ckpt')
    q.resume(a)
    await tick()
    expect(repo.get(a).status).toBe('running')
    expect(trainers[1].sent[0]).toMatchObject({
      type: 'start',
      job: { checkpoint: 'epoch-0001-batch-000002.ckpt' }
    })
  })

  it('pauses and stops queued runs without starting them', async () => {
    const q = makeQueue()
    newRun(q)
    const b = newRun(q)
    const c = newRun(q)
    q.pause(b)
    await q.stop(c)
    expect(repo.get(b).status).toBe('paused')
    expect(repo.get(c).status).toBe('cancelled')
    expect(() => q.resume(c)).toThrow(/only a paused run/)
  })

  it('stops a training run: cancelled, even when the trainer has to be killed', async () => {
    const q = makeQueue()
    const a = newRun(q)
    const stopping = q.stop(a)
    expect(trainers[0].sent.at(-1)).toEqual({ type: 'stop' })
    // The trainer ignores the request; the grace timer kills it.
    await stopping
    expect(trainers[0].alive).toBe(false)
    expect(repo.get(a).status).toBe('cancelled')
    expect(repo.get(a).message).toMatch(/Stopped/)
  })

  it('re-queues a run whose trainer died and resumes it from its last checkpoint, dropping records after it', async () => {
    const q = makeQueue()
    const a = newRun(q)
    const t = trainers[0]
    t.emit({
      type: 'steps',
      steps: [0, 1].map((s) => ({ step: s, epoch: 1, loss: 1, lds: null, ce: null, lr: 1 }))
    })
    t.emit({
      type: 'epoch',
      record: { epoch: 1, metrics: metrics(0.3), seconds: 1, imagesPerSec: 1 },
      checkpoint: ckpt(a, 'epoch-0001.ckpt', 1, 0, 2),
      step: 2,
      best: null
    })
    t.emit({
      type: 'steps',
      steps: [2, 3].map((s) => ({ step: s, epoch: 2, loss: 1, lds: null, ce: null, lr: 1 }))
    })
    t.die(null) // SIGKILL
    await tick()
    expect(trainers).toHaveLength(2)
    expect(repo.get(a).status).toBe('running')
    expect(repo.steps(a).map((s) => s.step)).toEqual([0, 1])
    expect(trainers[1].sent[0]).toMatchObject({
      type: 'start',
      job: { checkpoint: 'epoch-0001.ckpt' }
    })
    expect(repo.detail(a).log.some((l) => l.level === 'warn' && /was killed/.test(l.message))).toBe(
      true
    )
  })

  it('keeps the previous checkpoint until the next is in place, and falls back to it when the last is damaged', async () => {
    const q = makeQueue()
    const a = newRun(q)
    const t = trainers[0]
    const dir = repo.resumeState(a).dir!
    for (const e of [1, 2, 3]) {
      t.emit({
        type: 'steps',
        steps: [2 * e - 2, 2 * e - 1].map((s) => ({
          step: s,
          epoch: e,
          loss: 1,
          lds: null,
          ce: null,
          lr: 1
        }))
      })
      t.emit({
        type: 'epoch',
        record: { epoch: e, metrics: metrics(0.1 * e), seconds: 1, imagesPerSec: 1 },
        checkpoint: ckpt(a, `epoch-000${e}.ckpt`, e, 0, 2 * e),
        step: 2 * e,
        best: e === 1 ? { epoch: 1, metrics: metrics(0.1), checkpoint: 'epoch-0001.ckpt' } : null
      })
    }
    // Last, previous and best are kept; epoch 2's file only as long as epoch 3's is the last.
    expect(repo.resumeState(a)).toMatchObject({
      checkpoint: 'epoch-0003.ckpt',
      prevCheckpoint: 'epoch-0002.ckpt',
      bestCheckpoint: 'epoch-0001.ckpt'
    })
    const { readdirSync } = await import('node:fs')
    expect(readdirSync(dir).sort()).toEqual([
      'epoch-0001.ckpt',
      'epoch-0002.ckpt',
      'epoch-0003.ckpt'
    ])
    writeFileSync(join(dir, 'epoch-0003.ckpt'), 'HISTCKP1 garbage') // damaged on disk
    t.die(null)
    await tick()
    expect(trainers[1].sent[0]).toMatchObject({
      type: 'start',
      job: { checkpoint: 'epoch-0002.ckpt' }
    })
    expect(repo.get(a).status).toBe('running')
    expect(repo.get(a).epochsDone).toBe(2)
    expect(repo.epochs(a).map((e) => e.epoch)).toEqual([1, 2])
    expect(repo.steps(a).map((s) => s.step)).toEqual([0, 1, 2, 3])
    const warn = repo.detail(a).log.find((l) => /falling back/.test(l.message))
    expect(warn?.level).toBe('warn')
    expect(warn?.message).toMatch(
      /epoch-0003\.ckpt is (damaged|truncated).*falling back to epoch-0002\.ckpt \(epoch 2\)/
    )
  })

  it('retries a failed run from its last good checkpoint; other states answer conflict', async () => {
    const q = makeQueue()
    const a = newRun(q)
    trainers[0].emit({
      type: 'epoch',
      record: { epoch: 1, metrics: metrics(0.3), seconds: 1, imagesPerSec: 1 },
      checkpoint: ckpt(a, 'epoch-0001.ckpt', 1, 0, 2),
      step: 2,
      best: null
    })
    trainers[0].emit({ type: 'failed', message: 'disk full' })
    trainers[0].die(1)
    await tick()
    expect(repo.get(a).status).toBe('failed')
    expect(() => q.resume(a)).toThrow(expect.objectContaining({ code: 'conflict' }))
    q.retry(a)
    await tick()
    expect(repo.get(a)).toMatchObject({ status: 'running', finishedAt: null, message: null })
    expect(trainers[1].sent[0]).toMatchObject({
      type: 'start',
      job: { checkpoint: 'epoch-0001.ckpt' }
    })
    expect(() => q.retry(a)).toThrow(expect.objectContaining({ code: 'conflict' }))
  })

  it('fails a run whose trainer keeps dying without progress', async () => {
    const q = makeQueue()
    const a = newRun(q)
    for (let i = 0; i < 3; i++) {
      trainers.at(-1)!.die(1)
      await tick()
    }
    expect(repo.get(a).status).toBe('failed')
    expect(repo.get(a).message).toMatch(/3 times/)
  })

  it('records a trainer-reported failure (NaN stop) with its reason', async () => {
    const q = makeQueue()
    const a = newRun(q)
    trainers[0].emit({
      type: 'failed',
      message: 'training stopped: the loss part lds became NaN at step 7'
    })
    trainers[0].die(1)
    await tick()
    expect(repo.get(a).status).toBe('failed')
    expect(repo.get(a).message).toMatch(/NaN at step 7/)
  })

  it("on start, resumes runs left running by a dead owner but leaves a live owner's runs alone", async () => {
    const q1 = makeQueue(process.pid)
    const a = newRun(q1)
    await q1.shutdown() // owner dies: the run stays 'running'
    expect(repo.get(a).status).toBe('running')
    // Another live process owns run b.
    const config = TrainConfig.parse({ datasetId })
    const b = repo.create({ name: null, datasetId, datasetName: 'ds', config, appVersion: 't' })
    repo.setOwner(b, process.ppid)
    const q2 = makeQueue(process.pid + 100_000) // a fresh owner
    // The old owner's pid is alive (it is this test process), so simulate its death:
    repo.setOwner(a, 2 ** 22 + 12345)
    const adopted = q2.recover()
    expect(adopted).toEqual([a])
    expect(repo.get(a).status).toBe('running')
    expect(repo.get(b).status).toBe('queued')
    expect(repo.detail(a).log.some((l) => /resuming/.test(l.message))).toBe(true)
  })
})
