import { defineStore } from 'pinia'
import { ref, shallowRef } from 'vue'
import type { EmbeddingMap, JobProgress, MapScope } from '../../../src-preload/contract'
import { errorMessage, getApi } from '../api'
import type { MapColouring } from '../charts/options/map'
import { useStoredRef } from '../composables/useStoredRef'

type Method = 'pca' | 'umap'

/**
 * A run's 2-D embedding map (PCA or UMAP of its test split or whole dataset, computed by the
 * backend) with its class names, the colouring, and the progress of the backend's 'embed' job
 * while a map is being computed.
 */
export const useEmbeddingMapStore = defineStore('embeddingMap', () => {
  const runId = ref<number | null>(null)
  const method = ref<Method>('pca')
  const scope = ref<MapScope>('test')
  const colourBy = useStoredRef<MapColouring>('hist.map.colourBy', 'class')
  const map = shallowRef<EmbeddingMap | null>(null)
  const classNames = ref<Map<number, string>>(new Map())
  const loading = ref(false)
  const error = ref<string | null>(null)
  /** The running job of the map being loaded (embedding the dataset, UMAP epochs). */
  const progress = ref<JobProgress | null>(null)
  let namesOf: number | null = null
  let seq = 0

  getApi().onEvent((e) => {
    if (e.type !== 'job' || e.job.kind !== 'embed' || e.job.targetId !== runId.value) return
    if (!loading.value) return
    progress.value = e.job.status === 'running' ? e.job : null
  })

  /** Loads the map of a run (of dataset `datasetId`) with the chosen method and scope. */
  async function load(
    id: number,
    datasetId: number,
    m: Method = method.value,
    s: MapScope = scope.value
  ): Promise<void> {
    const my = ++seq
    if (runId.value !== id) map.value = null
    runId.value = id
    method.value = m
    scope.value = s
    loading.value = true
    error.value = null
    progress.value = null
    try {
      const api = getApi()
      const [result, names] = await Promise.all([
        api.retrieval.embeddingMap({ runId: id, method: m, scope: s }),
        namesOf === datasetId
          ? Promise.resolve(classNames.value)
          : api.datasets
              .get({ id: datasetId })
              .then((d) => new Map(d.classes.map((c) => [c.id, c.name])))
              .catch(() => new Map<number, string>())
      ])
      if (my !== seq) return
      map.value = result
      classNames.value = names
      namesOf = datasetId
    } catch (err) {
      if (my === seq) {
        map.value = null
        error.value = errorMessage(err)
      }
    } finally {
      if (my === seq) {
        loading.value = false
        progress.value = null
      }
    }
  }

  /** Cancels the running map job (embedding the dataset); the load then fails as cancelled. */
  async function cancel(): Promise<void> {
    const job = progress.value
    if (!job) return
    try {
      await getApi().datasets.cancelJob({ jobId: job.jobId })
    } catch (err) {
      error.value = errorMessage(err)
    }
  }

  return { runId, method, scope, colourBy, map, classNames, loading, error, progress, load, cancel }
})
