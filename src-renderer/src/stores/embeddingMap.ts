import { defineStore } from 'pinia'
import { ref } from 'vue'
import type { MapPoint } from '../../../src-preload/contract'
import { errorMessage, getApi } from '../api'

/** A run's 2-D embedding map (PCA or UMAP, computed by the backend) with its class names. */
export const useEmbeddingMapStore = defineStore('embeddingMap', () => {
  const runId = ref<number | null>(null)
  const method = ref<'pca' | 'umap'>('pca')
  const points = ref<MapPoint[]>([])
  const classNames = ref<Map<number, string>>(new Map())
  const loading = ref(false)
  const error = ref<string | null>(null)
  let namesOf: number | null = null
  let seq = 0

  /** Loads the map of a run (of dataset `datasetId`) with the chosen method. */
  async function load(
    id: number,
    datasetId: number,
    m: 'pca' | 'umap' = method.value
  ): Promise<void> {
    const my = ++seq
    if (runId.value !== id) points.value = []
    runId.value = id
    method.value = m
    loading.value = true
    error.value = null
    try {
      const api = getApi()
      const [p, names] = await Promise.all([
        api.retrieval.embeddingMap({ runId: id, method: m }),
        namesOf === datasetId
          ? Promise.resolve(classNames.value)
          : api.datasets
              .get({ id: datasetId })
              .then((d) => new Map(d.classes.map((c) => [c.id, c.name])))
              .catch(() => new Map<number, string>())
      ])
      if (my !== seq) return
      points.value = p
      classNames.value = names
      namesOf = datasetId
    } catch (err) {
      if (my === seq) {
        points.value = []
        error.value = errorMessage(err)
      }
    } finally {
      if (my === seq) loading.value = false
    }
  }

  return { runId, method, points, classNames, loading, error, load }
})
