import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it } from 'vitest'
import type { AppEvent, HistApi, ImageRef, QueryResult } from '../../../src-preload/contract'
import { setApi } from '../api'
import { useJobsStore } from './jobs'
import { useRetrievalStore } from './retrieval'

const img = (id: number, classId = 1): ImageRef => ({
  id,
  datasetId: 1,
  classId,
  className: `c${classId}`,
  relPath: `c${classId}/${id}.png`
})
const answer = (q: ImageRef): QueryResult => ({ query: q, neighbours: [], missed: [], ap: null })

describe('retrieval store: galleries and the class filter', () => {
  let calls: { method: string; payload: Record<string, unknown> }[]
  let emit: (e: AppEvent) => void
  const called = (method: string): Record<string, unknown>[] =>
    calls.filter((c) => c.method === method).map((c) => c.payload)

  beforeEach(() => {
    setActivePinia(createPinia())
    calls = []
    const record =
      <T>(method: string, reply: (p: Record<string, unknown>) => T) =>
      (p: Record<string, unknown>) => {
        calls.push({ method, payload: p })
        return Promise.resolve(reply(p))
      }
    setApi({
      onEvent: (l: (e: AppEvent) => void) => {
        emit = l
        return () => undefined
      },
      mediaUrl: () => '',
      retrieval: {
        testImages: record('testImages', () => ({ total: 0, images: [] })),
        worst: record('worst', () => []),
        galleryClasses: record('galleryClasses', (p) =>
          p.gallery === 'test' ? [] : [{ classId: 5, className: 'c5', count: 3 }]
        ),
        prepareGallery: record('prepareGallery', (p) => ({ jobId: `job-${String(p.runId)}` })),
        query: record('query', (p) => answer(img(p.imageId as number)))
      }
    } as unknown as HistApi)
  })

  it('asks nothing to be prepared for the test split and lists its images', async () => {
    const store = useRetrievalStore()
    await store.setRun(1)
    expect(called('prepareGallery')).toEqual([])
    expect(called('testImages')[0]).toMatchObject({ runId: 1, gallery: 'test' })
    expect(called('galleryClasses')).toEqual([{ runId: 1, gallery: 'test' }])
  })

  it('on a gallery change lists its images and classes, starts its embedding and tracks the job', async () => {
    const store = useRetrievalStore()
    const jobs = useJobsStore()
    await store.setRun(1)
    await store.setCompare(2)
    store.setClassIds([7])
    await store.setGallery('all')
    expect(called('testImages').at(-1)).toMatchObject({ runId: 1, gallery: 'all' })
    expect(store.classes).toEqual([{ classId: 5, className: 'c5', count: 3 }])
    expect(called('prepareGallery')).toEqual([
      { runId: 1, gallery: 'all' },
      { runId: 2, gallery: 'all' }
    ])
    expect(store.galleryJobs).toEqual(['job-1', 'job-2'])
    // The filter belonged to the previous gallery.
    expect(store.classIds).toEqual([])
    emit({
      type: 'job',
      job: { jobId: 'job-1', kind: 'embed', message: 'm', done: 3, total: 9, status: 'running' }
    })
    expect(jobs.jobs['job-1']).toMatchObject({ done: 3, total: 9 })
  })

  it('sends the gallery and the class filter with both rankings, and only a real change re-ranks', async () => {
    const store = useRetrievalStore()
    await store.setRun(1)
    await store.setGallery('train')
    await store.setCompare(2)
    expect(store.setClassIds([5, 6])).toBe(true)
    await store.queryImage(img(11, 5))
    const asked = called('query')
    expect(asked).toEqual([
      { runId: 1, imageId: 11, k: 16, gallery: 'train', classIds: [5, 6] },
      { runId: 2, imageId: 11, k: 16, gallery: 'train', classIds: [5, 6] }
    ])
    // Each ranking also asks its gallery to be prepared, so a restarted embedding shows up.
    expect(called('prepareGallery').filter((p) => p.runId === 1).length).toBeGreaterThan(1)
    expect(called('prepareGallery').filter((p) => p.runId === 2).length).toBeGreaterThan(1)
    expect(called('prepareGallery').every((p) => p.gallery === 'train')).toBe(true)
    expect(store.galleryJobs).toEqual(['job-1', 'job-2'])
    expect(store.setClassIds([5, 6])).toBe(false)
    expect(store.setClassIds([])).toBe(true)
    await store.requery()
    expect(called('query').slice(2)).toEqual([
      { runId: 1, imageId: 11, k: 16, gallery: 'train' },
      { runId: 2, imageId: 11, k: 16, gallery: 'train' }
    ])
  })
})
