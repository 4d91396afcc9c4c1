import { defineStore } from 'pinia'
import { ref } from 'vue'
import type {
  ClassRecall,
  Comparison,
  FlippedQueries,
  RunDetail
} from '../../../src-preload/contract'
import { errorMessage, getApi } from '../api'

/** Comparing two or more saved runs. */
export const useCompareStore = defineStore('compare', () => {
  const selected = ref<number[]>([])
  const comparison = ref<Comparison | null>(null)
  const details = ref<RunDetail[]>([])
  const perClass = ref<Record<number, ClassRecall[]>>({})
  const loading = ref(false)
  const error = ref<string | null>(null)
  const diffOnly = ref(true)
  const flipPair = ref<[number, number] | null>(null)
  const flipped = ref<FlippedQueries | null>(null)
  const flippedError = ref<string | null>(null)
  const flippedLoading = ref(false)
  let seq = 0

  /** Loads the comparison of the selected runs (config diff, best metrics, curves, per class). */
  async function compare(ids: number[]): Promise<void> {
    selected.value = ids
    comparison.value = null
    flipped.value = null
    if (ids.length < 2) return
    const my = ++seq
    loading.value = true
    error.value = null
    try {
      const api = getApi()
      const [c, ds, pcs] = await Promise.all([
        api.retrieval.compare({ runIds: ids }),
        Promise.all(ids.map((id) => api.runs.get({ id }))),
        Promise.all(ids.map((id) => api.retrieval.perClass({ runId: id }).catch(() => [])))
      ])
      if (my !== seq) return
      comparison.value = c
      details.value = ds
      perClass.value = Object.fromEntries(ids.map((id, i) => [id, pcs[i]]))
      const [a, b] = ids
      if (!flipPair.value || !ids.includes(flipPair.value[0]) || !ids.includes(flipPair.value[1]))
        flipPair.value = [a, b]
      await loadFlipped()
    } catch (err) {
      if (my === seq) error.value = errorMessage(err)
    } finally {
      if (my === seq) loading.value = false
    }
  }

  /** Loads the queries that flipped between the two runs of flipPair. */
  async function loadFlipped(): Promise<void> {
    const pair = flipPair.value
    if (!pair || pair[0] === pair[1]) {
      flipped.value = null
      return
    }
    flippedLoading.value = true
    flippedError.value = null
    try {
      flipped.value = await getApi().retrieval.flipped({ runA: pair[0], runB: pair[1] })
    } catch (err) {
      flipped.value = null
      flippedError.value = errorMessage(err)
    } finally {
      flippedLoading.value = false
    }
  }

  /**
   * Queues one run per seed with the settings of a compared run (a seed group); returns the new
   * run ids. The name says which run and seed it repeats.
   */
  async function queueSeeds(runId: number, seeds: number[]): Promise<number[]> {
    const d = details.value.find((x) => x.id === runId) ?? (await getApi().runs.get({ id: runId }))
    const ids: number[] = []
    for (const seed of seeds) {
      const base = d.config.name ?? d.name
      const r = await getApi().runs.start({ ...d.config, seed, name: `${base} · seed ${seed}` })
      ids.push(r.id)
    }
    return ids
  }

  return {
    selected,
    comparison,
    details,
    perClass,
    loading,
    error,
    diffOnly,
    flipPair,
    flipped,
    flippedError,
    flippedLoading,
    compare,
    loadFlipped,
    queueSeeds
  }
})
