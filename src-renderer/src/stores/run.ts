import { defineStore } from 'pinia'
import { ref, shallowRef } from 'vue'
import type { AppEvent, RunDetail, RunProgress } from '../../../src-preload/contract'
import { errorMessage, getApi } from '../api'
import { applyRunEvent, isRunEvent } from './runMerge'

/** The run shown in the run view, kept live from events. */
export const useRunStore = defineStore('run', () => {
  /**
   * Shallow: steps can be tens of thousands of points. Each change swaps in a shallow copy (the
   * arrays are shared) so that computed chart options see a new value and recompute.
   */
  const detail = shallowRef<RunDetail | null>(null)
  const progress = ref<RunProgress | null>(null)
  const error = ref<string | null>(null)
  const loading = ref(false)
  /** Error of the last pause/resume/stop/export action. */
  const actionError = ref<string | null>(null)
  /** A pause was asked for and the trainer has not stopped yet (it stops at a batch boundary). */
  const pausing = ref(false)
  let wanted: number | null = null
  let buffer: AppEvent[] | null = null

  /** Loads a run; live events that arrive meanwhile are replayed after the load. */
  async function open(id: number): Promise<void> {
    wanted = id
    if (detail.value?.id !== id) {
      detail.value = null
      progress.value = null
      pausing.value = false
    }
    buffer = []
    loading.value = true
    try {
      const d = await getApi().runs.get({ id })
      if (wanted !== id) return
      for (const e of buffer) applyRunEvent(d, e)
      detail.value = d
      error.value = null
    } catch (err) {
      if (wanted === id) error.value = errorMessage(err)
    } finally {
      if (wanted === id) {
        buffer = null
        loading.value = false
      }
    }
  }

  /** Stops following a run (the view was left). */
  function close(): void {
    wanted = null
    buffer = null
  }

  async function act(fn: () => Promise<unknown>): Promise<void> {
    try {
      actionError.value = null
      await fn()
    } catch (err) {
      actionError.value = errorMessage(err)
    }
  }

  /** Pauses the running job; `pausing` is true at once, until the run's status changes. */
  async function pause(): Promise<void> {
    pausing.value = true
    await act(() => getApi().runs.pause({ id: wanted! }))
    if (actionError.value) pausing.value = false
  }
  /** Resumes a paused job. */
  const resume = (): Promise<void> => act(() => getApi().runs.resume({ id: wanted! }))
  /** Queues a failed run again from its last checkpoint that verifies. */
  const retry = (): Promise<void> => act(() => getApi().runs.retry({ id: wanted! }))
  /** Stops the job; it keeps the best checkpoint so far. */
  const stop = (): Promise<void> => act(() => getApi().runs.stop({ id: wanted! }))

  /** The best checkpoint of a stopped run is being evaluated on the test split. */
  const evaluating = ref(false)
  /**
   * Evaluates a stopped (cancelled or failed) run's best checkpoint on the test split
   * (`runs.evaluateBest`, see API-NOTES), then reloads the run with its test metrics.
   */
  async function evaluateBest(): Promise<void> {
    const id = wanted
    if (id === null) return
    evaluating.value = true
    try {
      await act(async () => {
        const runs = getApi().runs as Partial<{ evaluateBest(p: { id: number }): Promise<unknown> }>
        if (!runs.evaluateBest) throw new Error('This backend cannot evaluate a stopped run yet.')
        await runs.evaluateBest({ id })
      })
      if (!actionError.value && wanted === id) await open(id)
    } finally {
      evaluating.value = false
    }
  }

  /**
   * Exports the run to a folder — the run bundle (config, metrics, model) or, with 'tfjs', its
   * embedding network as a TF.js LayersModel; returns the written path.
   */
  async function exportTo(
    outDir: string,
    format: 'bundle' | 'tfjs' = 'bundle'
  ): Promise<string | null> {
    try {
      actionError.value = null
      const { path } = await getApi().runs.exportRun({ id: wanted!, outDir, format })
      return path
    } catch (err) {
      actionError.value = errorMessage(err)
      return null
    }
  }

  getApi().onEvent((e) => {
    if (wanted === null) return
    if (e.type === 'run.progress') {
      if (e.progress.runId === wanted) progress.value = e.progress
      return
    }
    if (e.type === 'runs.changed' && detail.value && !buffer) {
      // A reconnect or an outside change: refetch quietly to fill any gap.
      void open(wanted)
      return
    }
    if (!isRunEvent(e, wanted)) return
    if (buffer) {
      buffer.push(e)
      return
    }
    const d = detail.value
    if (e.type === 'run.status' && e.status !== 'running') pausing.value = false
    if (d && applyRunEvent(d, e)) {
      detail.value = { ...d }
      if (e.type === 'run.status' && e.status !== 'running' && e.status !== 'queued') {
        progress.value = null
        // Final metrics (test, baseline) are only in the stored run.
        void open(d.id)
      }
    }
  })

  return {
    detail,
    progress,
    error,
    loading,
    actionError,
    pausing,
    evaluating,
    evaluateBest,
    open,
    close,
    pause,
    resume,
    retry,
    stop,
    exportTo
  }
})
