import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it } from 'vitest'
import type { AppEvent, EmbeddingMap, HistApi, JobProgress } from '../../../src-preload/contract'
import { setApi } from '../api'
import { useEmbeddingMapStore } from './embeddingMap'

const job = (over: Partial<JobProgress>): JobProgress => ({
  jobId: 'j1',
  kind: 'embed',
  message: 'Map of run 3: embedding images',
  done: 10,
  total: 40,
  status: 'running',
  targetId: 3,
  ...over
})

describe('embedding map store', () => {
  let emit: (e: AppEvent) => void
  let answer: (m: EmbeddingMap) => void
  let asked: unknown[]
  let cancelled: string[]
  beforeEach(() => {
    setActivePinia(createPinia())
    asked = []
    cancelled = []
    setApi({
      onEvent: (l: (e: AppEvent) => void) => {
        emit = l
        return () => undefined
      },
      retrieval: {
        embeddingMap: (p: unknown) => {
          asked.push(p)
          return new Promise<EmbeddingMap>((res) => (answer = res))
        }
      },
      datasets: {
        get: () => Promise.resolve({ classes: [{ id: 7, name: 'wren' }] }),
        cancelJob: ({ jobId }: { jobId: string }) => {
          cancelled.push(jobId)
          return Promise.resolve()
        }
      }
    } as unknown as HistApi)
  })

  it('follows the embed job of its run while loading, ignores others, and can cancel it', async () => {
    const store = useEmbeddingMapStore()
    const loading = store.load(3, 1, 'umap', 'dataset')
    expect(asked).toEqual([{ runId: 3, method: 'umap', scope: 'dataset' }])
    emit({ type: 'job', job: job({ targetId: 4 }) })
    emit({ type: 'job', job: job({ kind: 'import' }) })
    expect(store.progress).toBeNull()
    emit({ type: 'job', job: job({}) })
    expect(store.progress?.done).toBe(10)
    await store.cancel()
    expect(cancelled).toEqual(['j1'])
    emit({ type: 'job', job: job({ status: 'completed', done: 40 }) })
    expect(store.progress).toBeNull()
    answer({ runId: 3 } as EmbeddingMap)
    await loading
    expect(store.map?.runId).toBe(3)
    expect(store.classNames.get(7)).toBe('wren')
    expect(store.loading).toBe(false)
    // A job event after the load does not bring a progress bar back.
    emit({ type: 'job', job: job({}) })
    expect(store.progress).toBeNull()
  })
})
