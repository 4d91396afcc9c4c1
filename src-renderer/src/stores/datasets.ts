import { defineStore } from 'pinia'
import { ref } from 'vue'
import type {
  DatasetDetail,
  DatasetSummary,
  ImagePage,
  ImportRequest,
  SplitSpec
} from '../../../src-preload/contract'
import { errorMessage, getApi } from '../api'

/** The dataset list and the dataset being looked at. */
export const useDatasetsStore = defineStore('datasets', () => {
  const list = ref<DatasetSummary[]>([])
  const loaded = ref(false)
  const loading = ref(false)
  const error = ref<string | null>(null)
  const detail = ref<DatasetDetail | null>(null)
  const detailError = ref<string | null>(null)
  const detailLoading = ref(false)
  /** The last import's outcome for a user (e.g. "Nothing changed: …"), shown on its dataset. */
  const notice = ref<{ datasetId: number; text: string } | null>(null)

  /** Reloads the list. */
  async function load(): Promise<void> {
    loading.value = true
    try {
      list.value = await getApi().datasets.list()
      error.value = null
    } catch (err) {
      error.value = errorMessage(err)
    } finally {
      loading.value = false
      loaded.value = true
    }
  }

  /** Loads one dataset's detail (classes, problems). */
  async function open(id: number): Promise<void> {
    if (detail.value?.id !== id) detail.value = null
    detailLoading.value = true
    try {
      detail.value = await getApi().datasets.get({ id })
      detailError.value = null
    } catch (err) {
      detailError.value = errorMessage(err)
    } finally {
      detailLoading.value = false
    }
  }

  /** Starts an import job; progress comes through the jobs store. Throws ApiError on bad input. */
  async function startImport(req: ImportRequest): Promise<string> {
    const { jobId } = await getApi().datasets.startImport(req)
    return jobId
  }

  /** Creates (or finds) the built-in demo dataset and returns it. */
  async function ensureDemo(): Promise<DatasetSummary> {
    const d = await getApi().datasets.ensureDemo()
    await load()
    return d
  }

  /** Renames a dataset. */
  async function rename(id: number, name: string): Promise<void> {
    await getApi().datasets.rename({ id, name })
    await refresh(id)
  }

  /** Points a dataset at a moved folder. */
  async function relink(id: number, root: string): Promise<void> {
    await getApi().datasets.relink({ id, root })
    await refresh(id)
  }

  /** Changes the train/test split. */
  async function setSplit(id: number, split: SplitSpec): Promise<void> {
    await getApi().datasets.setSplit({ id, split })
    await refresh(id)
  }

  /** One page of a dataset's images (optionally one class, optionally matching a search). */
  async function imagesPage(
    datasetId: number,
    opts: { classId?: number; search?: string; offset: number; limit: number }
  ): Promise<ImagePage> {
    return getApi().datasets.images({ datasetId, ...opts })
  }

  /** URL of an image or its thumbnail. */
  function mediaUrl(kind: 'image' | 'thumb', imageId: number): string {
    return getApi().mediaUrl(kind, imageId)
  }

  /** Deletes a dataset from the app (files on disk are kept). */
  async function remove(id: number): Promise<void> {
    await getApi().datasets.remove({ id })
    if (detail.value?.id === id) detail.value = null
    await load()
  }

  async function refresh(id: number): Promise<void> {
    await load()
    if (detail.value?.id === id) await open(id)
  }

  getApi().onEvent((e) => {
    if (e.type === 'datasets.changed') {
      void load()
      if (detail.value) void open(detail.value.id)
    }
  })

  return {
    notice,
    list,
    loaded,
    loading,
    error,
    detail,
    detailError,
    detailLoading,
    load,
    open,
    startImport,
    ensureDemo,
    rename,
    relink,
    setSplit,
    remove,
    imagesPage,
    mediaUrl
  }
})
