import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it } from 'vitest'
import { TrainConfig, type ExperimentDetail, type HistApi } from '../../../src-preload/contract'
import { setApi } from '../api'
import { useExperimentsStore } from './experiments'

const detail = (status: ExperimentDetail['status']): ExperimentDetail => ({
  id: 2,
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
  beforeEach(() => {
    setActivePinia(createPinia())
    answers = []
    setApi({
      onEvent: () => () => undefined,
      experiments: {
        get: () => new Promise<ExperimentDetail>((res) => answers.push(res))
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
})
