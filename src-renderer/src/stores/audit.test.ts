import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it } from 'vitest'
import type { AppEvent, AuditReport, HistApi, JobProgress } from '../../../src-preload/contract'
import { setApi } from '../api'
import { useAuditStore } from './audit'

const report = (runId: number, k: number): AuditReport => ({
  runId,
  datasetId: 1,
  images: 10,
  dim: 4,
  k,
  threshold: 0.95,
  minScore: 0.5,
  mislabelTotal: 0,
  testRecall1: null,
  caution: null,
  mislabels: [],
  duplicateTotal: 0,
  leakTotal: 0,
  duplicates: [],
  duplicatesTruncated: false,
  loadSeconds: 0,
  scanSeconds: 0
})

describe('audit store', () => {
  let asked: { runId: number; k?: number; threshold?: number }[]
  let answers: { resolve: (r: AuditReport) => void; reject: (e: Error) => void }[]
  let cancelled: string[]
  let emit: (e: AppEvent) => void
  beforeEach(() => {
    setActivePinia(createPinia())
    asked = []
    answers = []
    cancelled = []
    setApi({
      onEvent: (l: (e: AppEvent) => void) => {
        emit = l
        return () => undefined
      },
      audit: {
        report: (p: { runId: number; k?: number; threshold?: number }) => {
          asked.push(p)
          return new Promise<AuditReport>((resolve, reject) => answers.push({ resolve, reject }))
        }
      },
      datasets: {
        cancelJob: async ({ jobId }: { jobId: string }) => void cancelled.push(jobId)
      }
    } as unknown as HistApi)
  })

  it('sends k and threshold, and keeps the latest answer when an older one arrives late', async () => {
    const s = useAuditStore()
    s.k = 5
    s.threshold = 0.9
    const first = s.load(3)
    s.k = 7
    const second = s.load(3)
    expect(asked).toEqual([
      { runId: 3, k: 5, threshold: 0.9 },
      { runId: 3, k: 7, threshold: 0.9 }
    ])
    answers[1].resolve(report(3, 7))
    await second
    answers[0].resolve(report(3, 5))
    await first
    expect(s.report?.k).toBe(7)
    expect(s.loading).toBe(false)
  })

  it('follows the audit job of its run and cancels it', async () => {
    const s = useAuditStore()
    const pending = s.load(3)
    const job = (targetId: number, id: string): JobProgress => ({
      jobId: id,
      kind: 'audit',
      message: 'Comparing the images',
      done: 2,
      total: 10,
      status: 'running',
      targetId
    })
    emit({ type: 'job', job: job(4, 'other') })
    expect(s.progress).toBeNull()
    emit({ type: 'job', job: job(3, 'mine') })
    expect(s.progress?.jobId).toBe('mine')
    await s.cancel()
    expect(cancelled).toEqual(['mine'])
    expect(s.loading).toBe(false)
    expect(s.error).toBe('Audit cancelled.')
    answers[0].reject(new Error('Audit of run 3 was cancelled'))
    await pending
    expect(s.error).toBe('Audit cancelled.')
  })
})
