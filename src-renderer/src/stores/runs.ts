import { defineStore } from 'pinia'
import { ref } from 'vue'
import type { RunSummary } from '../../../src-preload/contract'
import type { RunsListQueryInput } from '../../../src-preload/contract/runs'
import { errorMessage, getApi } from '../api'

/** The list of saved runs. */
export const useRunsStore = defineStore('runs', () => {
  const list = ref<RunSummary[]>([])
  const loaded = ref(false)
  const loading = ref(false)
  const error = ref<string | null>(null)
  /** Sort and filters, applied by the main process in SQL. */
  const query = ref<RunsListQueryInput>({})

  /** Reloads the list. */
  async function load(): Promise<void> {
    loading.value = true
    try {
      list.value = await getApi().runs.list(query.value)
      error.value = null
    } catch (err) {
      error.value = errorMessage(err)
    } finally {
      loading.value = false
      loaded.value = true
    }
  }

  /** Deletes a run and its files. */
  async function remove(id: number): Promise<void> {
    await getApi().runs.remove({ id })
    list.value = list.value.filter((r) => r.id !== id)
  }

  /** Sets a run's tags and/or note and updates it in the list. */
  async function annotate(p: { id: number; tags?: string[]; note?: string }): Promise<void> {
    const updated = await getApi().runs.annotate(p)
    list.value = list.value.map((r) => (r.id === updated.id ? updated : r))
  }

  getApi().onEvent((e) => {
    if (e.type === 'runs.changed') void load()
    else if (e.type === 'run.status') {
      const r = list.value.find((x) => x.id === e.runId)
      if (r) {
        r.status = e.status
        r.message = e.message
      } else void load()
    } else if (e.type === 'run.epoch') {
      const r = list.value.find((x) => x.id === e.runId)
      if (r) {
        r.epochsDone = Math.max(r.epochsDone, e.record.epoch)
        const r1 = e.record.metrics.recall['1']
        if (r1 !== undefined && (r.bestMetrics?.recall['1'] ?? -1) < r1) {
          r.bestMetrics = e.record.metrics
          r.bestEpoch = e.record.epoch
        }
      }
    }
  })

  return { list, loaded, loading, error, query, load, remove, annotate }
})
