import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import {
  TrainConfig,
  type AppEvent,
  type ExperimentDetail,
  type HistApi
} from '../../../src-preload/contract'
import { setApi } from '../api'
import { useExperimentsStore } from './experiments'

const detail = (status: ExperimentDetail['status'], id = 2): ExperimentDetail => ({
  id,
  kind: 'ablation',
  name: 'a',
  datasetId: 1,
  datasetName: 'd',
  axes: [],
  status,
  done: 0,
  total: 7,
  createdAt: '',
  base: TrainConfig.parse({ datasetId: 1 }),
  points: []
})

describe('experiments store', () => {
  let answers: ((d: ExperimentDetail) => void)[]
  let asked: number[]
  let emit: (e: AppEvent) => void
  beforeEach(() => {
    setActivePinia(createPinia())
    answers = []
    asked = []
    setApi({
      onEvent: (l: (e: AppEvent) => void) => {
        emit = l
        return () => undefined
      },
      experiments: {
        get: ({ id }: { id: number }) => {
          asked.push(id)
          return new Promise<ExperimentDetail>((res) => answers.push(res))
        },
        list: () => Promise.resolve([])
      }
    } as unknown as HistApi)
  })

  it('keeps the latest refresh when an older, slower answer arrives after it', async () => {
    const store = useExperimentsStore()
    const first = store.open(2)
    const second = store.open(2)
    answers[1](detail('partial')) // the fresh answer lands first
    await second
    answers[0](detail('running')) // then the stale one
    await first
    expect(store.current?.status).toBe('partial')
  })

  it('refreshes the experiment being opened, not the one shown before (opening #2 after #1)', async () => {
    vi.useFakeTimers()
    try {
      const store = useExperimentsStore()
      const one = store.open(1)
      answers[0](detail('completed', 1))
      await one
      void store.open(2) // its answer is still on the way when a run event arrives
      emit({ type: 'run.status', runId: 7, status: 'running', message: null })
      await vi.advanceTimersByTimeAsync(400)
      expect(asked).toEqual([1, 2, 2])
    } finally {
      vi.useRealTimers()
    }
  })
})
