/**
 * Heat-maps from the explain service, cached per (run, query, result) so that toggling back and
 * forth costs nothing; the work itself runs in the backend's worker thread.
 */
import { ref, watch, type Ref } from 'vue'
import type { ActivationMap, PairExplanation } from '../../../src-preload/contract'
import { errorMessage, getApi } from '../api'

const cache = new Map<string, Promise<PairExplanation | ActivationMap>>()

/** The pair explanation (resultId set) or the query's activation map (resultId null). */
export function useExplain(
  runId: Ref<number | null>,
  queryId: Ref<number | null>,
  resultId: Ref<number | null>,
  enabled: Ref<boolean>
) {
  const pair = ref<PairExplanation | null>(null)
  const single = ref<ActivationMap | null>(null)
  const loading = ref(false)
  const error = ref<string | null>(null)
  let token = 0

  async function refresh(): Promise<void> {
    const t = ++token
    pair.value = null
    single.value = null
    error.value = null
    if (!enabled.value || runId.value === null || queryId.value === null) return
    const key = `${runId.value}:${queryId.value}:${resultId.value ?? '-'}`
    let p = cache.get(key)
    if (!p) {
      const api = getApi().explain
      p =
        resultId.value === null
          ? api.single({ runId: runId.value, imageId: queryId.value })
          : api.pair({
              runId: runId.value,
              queryImageId: queryId.value,
              resultImageId: resultId.value
            })
      cache.set(key, p)
      p.catch(() => cache.delete(key))
    }
    loading.value = true
    try {
      const r = await p
      if (t !== token) return
      if ('similarity' in r) pair.value = r
      else single.value = r
    } catch (err) {
      if (t === token) error.value = errorMessage(err)
    } finally {
      if (t === token) loading.value = false
    }
  }

  watch([runId, queryId, resultId, enabled], () => void refresh(), { immediate: true })
  return { pair, single, loading, error }
}
