import { describe, expect, it } from 'vitest'
import type { AppEvent, JobProgress } from '../../src-preload/contract'
import { EventBus } from './events'
import { CancelledError, JobRunner } from './jobs'

/** A runner on a hand-moved clock, with the `job` events it emitted. */
function runner(retention?: { maxFinished: number; keepMs: number }): {
  jobs: JobRunner
  events: JobProgress[]
  clock: { t: number }
} {
  const bus = new EventBus()
  const events: JobProgress[] = []
  bus.on((e: AppEvent) => {
    if (e.type === 'job') events.push(e.job)
  })
  const clock = { t: 1_000 }
  return { jobs: new JobRunner(bus, 0, retention, () => clock.t), events, clock }
}

describe('JobRunner', () => {
  it('keeps a finished job for wait/get and emits its final state', async () => {
    const { jobs, events } = runner()
    const id = jobs.start('import', 'x', async (job) => {
      job.progress(1, 2, 'half')
      return { targetId: 7 }
    })
    const end = await jobs.wait(id)
    expect(end).toMatchObject({ jobId: id, status: 'completed', targetId: 7, done: 1 })
    expect(jobs.get(id)).toMatchObject({ status: 'completed', targetId: 7 })
    expect(await jobs.wait(id)).toEqual(end)
    expect(events.at(-1)).toMatchObject({ jobId: id, status: 'completed' })
  })

  it('reports failed and cancelled jobs', async () => {
    const { jobs } = runner()
    const bad = jobs.start('import', 'x', async () => {
      throw new Error('broken file')
    })
    expect(await jobs.wait(bad)).toMatchObject({ status: 'failed', error: 'broken file' })
    const slow = jobs.start('import', 'y', async (job) => {
      await new Promise((r) => setTimeout(r, 20))
      if (job.signal.aborted) throw new CancelledError()
    })
    jobs.cancel(slow)
    expect(await jobs.wait(slow)).toMatchObject({ status: 'cancelled' })
  })

  it('drops finished jobs beyond the count bound, oldest first, and never a running one', async () => {
    const { jobs } = runner({ maxFinished: 3, keepMs: 60_000 })
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    const running = jobs.start('import', 'long', () => gate)
    const ids: string[] = []
    for (let i = 0; i < 6; i++) {
      ids.push(jobs.start('import', `job ${i}`, async () => undefined))
      await jobs.wait(ids[i])
    }
    expect(ids.slice(0, 3).map((id) => jobs.get(id))).toEqual([undefined, undefined, undefined])
    expect(ids.slice(3).map((id) => jobs.get(id)?.status)).toEqual(['completed', 'completed', 'completed'])
    expect(jobs.get(running)?.status).toBe('running')
    expect(jobs.size).toBe(4)
    await expect(jobs.wait(ids[0])).rejects.toThrow(/no job with id/)
    expect(() => jobs.cancel(ids[0])).toThrow(/no job with id/)
    release()
    expect((await jobs.wait(running)).status).toBe('completed')
  })

  it('drops a finished job once it is older than keepMs, however many there are', async () => {
    const { jobs, clock } = runner({ maxFinished: 100, keepMs: 5_000 })
    const a = jobs.start('import', 'a', async () => undefined)
    await jobs.wait(a)
    clock.t += 4_999
    expect(jobs.get(a)?.status).toBe('completed')
    clock.t += 1
    expect(jobs.get(a)).toBeUndefined()
    expect(jobs.size).toBe(0)
  })

  it('holds a bounded number of jobs over a long session with the default retention', async () => {
    const { jobs } = runner()
    for (let i = 0; i < 120; i++) await jobs.wait(jobs.start('embed', `${i}`, async () => undefined))
    expect(jobs.size).toBe(50)
  })
})
