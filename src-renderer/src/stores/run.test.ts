import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import {
  TrainConfig,
  type AppEvent,
  type HistApi,
  type RunDetail
} from '../../../src-preload/contract'
import { setApi } from '../api'
import { useRunStore } from './run'

function detail(steps: number[]): RunDetail {
  return {
    id: 9,
    name: 'live',
    status: 'running',
    datasetId: 1,
    datasetName: 'd',
    config: TrainConfig.parse({ datasetId: 1 }),
    backend: 'wasm',
    appVersion: '0',
    createdAt: '',
    finishedAt: null,
    message: null,
    bestEpoch: null,
    bestMetrics: null,
    baselineMetrics: null,
    testMetrics: null,
    rawMetrics: null,
    testFrom: null,
    belowBaseline: false,
    epochsDone: 0,
    tags: [],
    note: '',
    steps: steps.map((step) => ({ step, epoch: 1, loss: 1, lds: null, ce: null, lr: 1e-3 })),
    epochs: [],
    log: []
  }
}

/** A HistApi with only what the run store touches, and a hand-driven runs.get. */
function fakeApi() {
  const listeners = new Set<(e: AppEvent) => void>()
  let release: ((d: RunDetail) => void) | null = null
  let gets = 0
  let unpause: (() => void) | null = null
  const evaluated: number[] = []
  const api = {
    onEvent: (l: (e: AppEvent) => void) => {
      listeners.add(l)
      return () => listeners.delete(l)
    },
    mediaUrl: () => '',
    runs: {
      // The real pause returns only once the trainer has stopped at a batch boundary.
      pause: () => new Promise<void>((r) => (unpause = r)),
      evaluateBest: async ({ id }: { id: number }) => {
        evaluated.push(id)
        return {}
      },
      get: () => {
        gets++
        return new Promise<RunDetail>((r) => (release = r))
      }
    }
  } as unknown as HistApi
  return {
    api,
    emit: (e: AppEvent) => listeners.forEach((l) => l(e)),
    resolveGet: (d: RunDetail) => release!(d),
    finishPause: () => unpause!(),
    evaluated,
    gets: () => gets
  }
}

const steps = (runId: number, ns: number[]): AppEvent => ({
  type: 'run.steps',
  runId,
  steps: ns.map((step) => ({ step, epoch: 1, loss: 0.5, lds: null, ce: null, lr: 1e-3 }))
})

describe('run store (live run view)', () => {
  let f: ReturnType<typeof fakeApi>
  beforeEach(() => {
    f = fakeApi()
    setApi(f.api)
    setActivePinia(createPinia())
  })

  it('shows a running job from its first step: events during the load are replayed without doubles', async () => {
    const store = useRunStore()
    const opening = store.open(9)
    f.emit(steps(9, [3, 4])) // overlaps what runs.get returns
    f.emit(steps(9, [5]))
    f.emit(steps(7, [100])) // another run
    f.resolveGet(detail([0, 1, 2, 3, 4]))
    await opening
    expect(store.detail!.steps.map((s) => s.step)).toEqual([0, 1, 2, 3, 4, 5])
    f.emit(steps(9, [6]))
    expect(store.detail!.steps.map((s) => s.step)).toEqual([0, 1, 2, 3, 4, 5, 6])
  })

  it('keeps only the progress of the open run and drops it when the run ends', async () => {
    const store = useRunStore()
    const opening = store.open(9)
    f.resolveGet(detail([]))
    await opening
    const progress = {
      runId: 9,
      epoch: 1,
      epochs: 2,
      batch: 3,
      batches: 10,
      etaSec: 20,
      imagesPerSec: 50,
      phase: 'train' as const
    }
    f.emit({ type: 'run.progress', progress: { ...progress, runId: 8 } })
    expect(store.progress).toBeNull()
    f.emit({ type: 'run.progress', progress })
    expect(store.progress?.batch).toBe(3)
    f.emit({ type: 'run.status', runId: 9, status: 'completed', message: null })
    expect(store.progress).toBeNull()
    expect(store.detail!.status).toBe('completed')
    expect(f.gets()).toBe(2) // refetched for the final test metrics
  })

  it('ignores events after the view closed', async () => {
    const store = useRunStore()
    const opening = store.open(9)
    f.resolveGet(detail([0]))
    await opening
    store.close()
    f.emit(steps(9, [1]))
    expect(store.detail!.steps).toHaveLength(1)
  })

  it('shows Pausing… at once and until the trainer reports the run paused', async () => {
    const store = useRunStore()
    const opening = store.open(9)
    f.resolveGet(detail([0]))
    await opening
    expect(store.pausing).toBe(false)
    const pausing = store.pause()
    expect(store.pausing).toBe(true)
    f.finishPause()
    await pausing
    expect(store.pausing).toBe(true) // the status event has not arrived yet
    f.emit({ type: 'run.status', runId: 9, status: 'paused', message: null })
    expect(store.pausing).toBe(false)
  })

  it('evaluates a stopped run’s best checkpoint and reloads it with its test metrics', async () => {
    const store = useRunStore()
    const opening = store.open(9)
    f.resolveGet({ ...detail([0]), status: 'cancelled', bestEpoch: 1 })
    await opening
    const evaluating = store.evaluateBest()
    expect(store.evaluating).toBe(true)
    await vi.waitFor(() => expect(f.gets()).toBe(2))
    expect(f.evaluated).toEqual([9])
    const done = { ...detail([0]), status: 'cancelled' as const, bestEpoch: 1 }
    done.testMetrics = { recall: { '1': 0.5 }, rPrecision: 0.4, mapAtR: 0.3, nmi: 0.2 } as never
    f.resolveGet(done)
    await evaluating
    expect(store.evaluating).toBe(false)
    expect(store.detail!.testMetrics?.recall['1']).toBe(0.5)
    expect(f.gets()).toBe(2)
  })
})
