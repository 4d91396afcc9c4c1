import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it } from 'vitest'
import { nextTick } from 'vue'
import { TrainConfig, type DatasetDetail, type HistApi } from '../../../src-preload/contract'
import { setApi } from '../api'
import { useWizardStore } from './wizard'

const CLASSES: Record<number, number> = { 1: 13, 2: 10, 3: 8 }

function dataset(id: number): DatasetDetail {
  const n = CLASSES[id]
  return {
    id,
    name: `d${id}`,
    classCount: n,
    imageCount: n * 5,
    splits: [],
    groups: [],
    classes: Array.from({ length: n }, (_, i) => ({
      id: i + 1,
      name: `c${i + 1}`,
      group: null,
      imageCount: 5,
      split: null
    })),
    problems: []
  } as unknown as DatasetDetail
}

async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await nextTick()
    await new Promise((r) => setTimeout(r, 0))
  }
}

describe('wizard store', () => {
  beforeEach(() => {
    setApi({
      onEvent: () => () => {},
      datasets: { get: async ({ id }: { id: number }) => dataset(id) }
    } as unknown as HistApi)
    setActivePinia(createPinia())
  })

  it('starts another dataset from its own split, not the one made for the last dataset', async () => {
    const w = useWizardStore()
    w.form.datasetId = 1
    await settle()
    Object.assign(w.form.split, {
      kind: 'class-range',
      trainFrom: 1,
      trainTo: 6,
      testFrom: 7,
      testTo: 13
    })
    await settle()
    expect(w.errors['split.test.1']).toBeUndefined()

    w.form.datasetId = 2
    await settle()
    expect(w.form.split.kind).toBe('preset')
    expect(w.form.split.testTo).toBe(10)
    expect(Object.keys(w.errors).filter((k) => k.startsWith('split'))).toEqual([])
  })

  it('keeps the split of a run trained again (it belongs to that run’s dataset)', async () => {
    const w = useWizardStore()
    w.form.datasetId = 1
    await settle()
    w.loadConfig(
      TrainConfig.parse({
        datasetId: 3,
        split: { kind: 'class-range', train: [1, 4], test: [5, 8] }
      })
    )
    await settle()
    expect(w.form.datasetId).toBe(3)
    expect(w.form.split.kind).toBe('class-range')
    expect([w.form.split.trainTo, w.form.split.testTo]).toEqual([4, 8])
  })
})
