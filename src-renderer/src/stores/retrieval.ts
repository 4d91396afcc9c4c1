import { defineStore } from 'pinia'
import { ref } from 'vue'
import type {
  GalleryClass,
  GalleryScope,
  ImageRef,
  QueryResult,
  WorstQuery
} from '../../../src-preload/contract'
import { errorMessage, getApi } from '../api'
import { useJobsStore } from './jobs'

/** What was asked: an image of the test split, or an external image (with a preview URL). */
export type QuerySource =
  | { kind: 'image'; image: ImageRef }
  | { kind: 'external'; label: string; previewUrl: string | null }

const PAGE = 120

/** The retrieval browser: chosen run, query list, the current query's neighbours. */
export const useRetrievalStore = defineStore('retrieval', () => {
  // Created first, so that no progress event of an embedding job started here is missed.
  useJobsStore()
  const runId = ref<number | null>(null)
  const k = ref(16)
  /** What the query is ranked against: the test split, the train split or the whole dataset. */
  const gallery = ref<GalleryScope>('test')
  /** Show only neighbours of these classes (empty: all). */
  const classIds = ref<number[]>([])
  /** The classes of the current gallery, for the class filter. */
  const classes = ref<GalleryClass[]>([])
  /** Embedding jobs started for the chosen gallery (train split / whole dataset) of shown runs. */
  const galleryJobs = ref<string[]>([])
  const galleryError = ref<string | null>(null)
  const search = ref('')
  const testImages = ref<ImageRef[]>([])
  const testTotal = ref(0)
  const testLoading = ref(false)
  const testError = ref<string | null>(null)
  const source = ref<QuerySource | null>(null)
  const result = ref<QueryResult | null>(null)
  const querying = ref(false)
  const queryError = ref<string | null>(null)
  const worst = ref<WorstQuery[]>([])
  const worstError = ref<string | null>(null)
  /** A second run ranked side by side with the first, for queries from the test split. */
  const compareId = ref<number | null>(null)
  const compareResult = ref<QueryResult | null>(null)
  const compareError = ref<string | null>(null)
  let searchSeq = 0
  let querySeq = 0
  let compareSeq = 0
  /** The last external image, so a run change can embed it again with the new model. */
  let lastExternal: { label: string; again: () => Promise<void> } | null = null

  /**
   * Chooses the run. A query from the test split is cleared (the caller re-asks it when the new
   * run has that image); an external image is embedded again with the new run's model.
   */
  async function setRun(id: number | null): Promise<void> {
    if (runId.value === id) return
    runId.value = id
    const external = source.value?.kind === 'external' ? source.value : null
    result.value = null
    source.value = null
    queryError.value = null
    worst.value = []
    testImages.value = []
    testTotal.value = 0
    compareResult.value = null
    classes.value = []
    // Jobs of the previous choice (prepareGallery lists a still-running one again).
    galleryJobs.value = []
    if (id === null) return
    const again = external && lastExternal?.label === external.label ? lastExternal.again() : null
    await Promise.all([
      loadTestImages(),
      loadWorst(),
      loadClasses(),
      prepareGallery(id),
      compareId.value !== null && compareId.value !== id ? prepareGallery(compareId.value) : null,
      again
    ])
  }

  /**
   * Chooses the gallery. The query list and classes follow; a query image is asked again by the
   * caller (the route), an external image is ranked again here.
   */
  async function setGallery(scope: GalleryScope): Promise<void> {
    if (gallery.value === scope) return
    gallery.value = scope
    galleryJobs.value = []
    classIds.value = []
    result.value = null
    compareResult.value = null
    const external = source.value?.kind === 'external' ? source.value : null
    if (source.value?.kind === 'image') source.value = null
    if (runId.value === null) return
    const again = external && lastExternal?.label === external.label ? lastExternal.again() : null
    await Promise.all([
      loadTestImages(),
      loadClasses(),
      prepareGallery(runId.value),
      compareId.value !== null ? prepareGallery(compareId.value) : null,
      again
    ])
  }

  /** Sets the class filter; true when it changed (the caller ranks the query again). */
  function setClassIds(ids: number[]): boolean {
    const same =
      ids.length === classIds.value.length && ids.every((c, i) => c === classIds.value[i])
    if (!same) classIds.value = [...ids]
    return !same
  }

  /** Ranks the current query again (after a filter change). */
  async function requery(): Promise<void> {
    const src = source.value
    if (src?.kind === 'image') await queryImage(src.image)
    else if (src?.kind === 'external' && lastExternal?.label === src.label)
      await lastExternal.again()
  }

  /** Starts embedding a run's dataset when the chosen gallery needs it (progress via jobs). */
  async function prepareGallery(id: number): Promise<void> {
    galleryError.value = null
    if (gallery.value === 'test') return
    try {
      const { jobId } = await getApi().retrieval.prepareGallery({
        runId: id,
        gallery: gallery.value
      })
      if (jobId && !galleryJobs.value.includes(jobId))
        galleryJobs.value = [...galleryJobs.value, jobId]
    } catch (err) {
      galleryError.value = errorMessage(err)
    }
  }

  /** The classes of the current gallery with their counts. */
  async function loadClasses(): Promise<void> {
    const id = runId.value
    if (id === null) return
    const scope = gallery.value
    try {
      const list = await getApi().retrieval.galleryClasses({ runId: id, gallery: scope })
      if (runId.value === id && gallery.value === scope) classes.value = list
    } catch (err) {
      if (runId.value === id) galleryError.value = errorMessage(err)
    }
  }

  /** Gallery and class filter of a query call (classIds only when filtering). */
  const scopeArgs = (): { gallery: GalleryScope; classIds?: number[] } =>
    classIds.value.length
      ? { gallery: gallery.value, classIds: [...classIds.value] }
      : { gallery: gallery.value }

  /** Chooses the run ranked beside the first (null: none) and ranks the current query with it. */
  async function setCompare(id: number | null): Promise<void> {
    if (compareId.value === id) return
    compareId.value = id
    if (id !== null) void prepareGallery(id)
    await queryCompare()
  }

  /** Ranks the current query (an image of the test split) with the second run. */
  async function queryCompare(): Promise<void> {
    const id = compareId.value
    const src = source.value
    const seq = ++compareSeq
    compareResult.value = null
    compareError.value = null
    if (id === null || src?.kind !== 'image') return
    trackGallery(id)
    try {
      const r = await getApi().retrieval.query({
        runId: id,
        imageId: src.image.id,
        k: k.value,
        ...scopeArgs()
      })
      if (seq === compareSeq) compareResult.value = r
    } catch (err) {
      if (seq === compareSeq) compareError.value = errorMessage(err)
    }
  }

  /** (Re)loads the first page of query candidates for the search text. */
  async function loadTestImages(): Promise<void> {
    const id = runId.value
    if (id === null) return
    const seq = ++searchSeq
    testLoading.value = true
    try {
      const page = await getApi().retrieval.testImages({
        runId: id,
        gallery: gallery.value,
        search: search.value.trim() || undefined,
        offset: 0,
        limit: PAGE
      })
      if (seq !== searchSeq) return
      testImages.value = page.images
      testTotal.value = page.total
      testError.value = null
    } catch (err) {
      if (seq === searchSeq) testError.value = errorMessage(err)
    } finally {
      if (seq === searchSeq) testLoading.value = false
    }
  }

  /** Appends the next page of query candidates. */
  async function loadMoreTestImages(): Promise<void> {
    const id = runId.value
    if (id === null || testLoading.value || testImages.value.length >= testTotal.value) return
    const seq = searchSeq
    testLoading.value = true
    try {
      const page = await getApi().retrieval.testImages({
        runId: id,
        gallery: gallery.value,
        search: search.value.trim() || undefined,
        offset: testImages.value.length,
        limit: PAGE
      })
      if (seq === searchSeq) testImages.value = [...testImages.value, ...page.images]
    } catch (err) {
      testError.value = errorMessage(err)
    } finally {
      testLoading.value = false
    }
  }

  /** The queries with the lowest average precision. */
  async function loadWorst(): Promise<void> {
    const id = runId.value
    if (id === null) return
    try {
      const w = await getApi().retrieval.worst({ runId: id, limit: 20 })
      if (runId.value === id) {
        worst.value = w
        worstError.value = null
      }
    } catch (err) {
      worstError.value = errorMessage(err)
    }
  }

  /**
   * A query on the train split or the whole dataset waits for its embedding; asking prepare too
   * shows that job's progress (also one started again after a cancel).
   */
  function trackGallery(id: number | null): void {
    if (id !== null && gallery.value !== 'test') void prepareGallery(id)
  }

  async function run(src: QuerySource, fn: () => Promise<QueryResult>): Promise<void> {
    const seq = ++querySeq
    trackGallery(runId.value)
    source.value = src
    querying.value = true
    queryError.value = null
    try {
      const r = await fn()
      if (seq === querySeq) result.value = r
    } catch (err) {
      if (seq === querySeq) {
        result.value = null
        queryError.value = errorMessage(err)
      }
    } finally {
      if (seq === querySeq) querying.value = false
    }
  }

  /** Queries with an image of the test split. */
  async function queryImage(image: ImageRef): Promise<void> {
    const id = runId.value
    if (id === null) return
    await Promise.all([
      run({ kind: 'image', image }, () =>
        getApi().retrieval.query({ runId: id, imageId: image.id, k: k.value, ...scopeArgs() })
      ),
      // run() has set the source synchronously, so the second run ranks the same image
      queryCompare()
    ])
  }

  /** Queries with an image id only (deep links, map clicks); the ref comes with the answer. */
  async function queryImageId(imageId: number): Promise<void> {
    const id = runId.value
    if (id === null) return
    const seq = querySeq + 1
    await run(
      {
        kind: 'external',
        label: `image ${imageId}`,
        previewUrl: getApi().mediaUrl('thumb', imageId)
      },
      () => getApi().retrieval.query({ runId: id, imageId, k: k.value, ...scopeArgs() })
    )
    if (seq === querySeq && result.value?.query) {
      source.value = { kind: 'image', image: result.value.query }
      await queryCompare()
    }
  }

  /** Queries with image bytes (a dropped or chosen file). */
  async function queryBytes(dataBase64: string, label: string, previewUrl: string): Promise<void> {
    const id = runId.value
    if (id === null) return
    lastExternal = { label, again: () => queryBytes(dataBase64, label, previewUrl) }
    compareResult.value = null
    await run({ kind: 'external', label, previewUrl }, () =>
      getApi().retrieval.queryExternal({ runId: id, dataBase64, k: k.value, ...scopeArgs() })
    )
  }

  /** Queries with an image file on the backend's disk (Electron picker). */
  async function queryPath(path: string): Promise<void> {
    const id = runId.value
    if (id === null) return
    lastExternal = { label: path, again: () => queryPath(path) }
    compareResult.value = null
    await run({ kind: 'external', label: path, previewUrl: null }, () =>
      getApi().retrieval.queryExternal({ runId: id, path, k: k.value, ...scopeArgs() })
    )
  }

  return {
    runId,
    k,
    gallery,
    classIds,
    classes,
    galleryJobs,
    galleryError,
    setGallery,
    setClassIds,
    requery,
    prepareGallery,
    loadClasses,
    search,
    testImages,
    testTotal,
    testLoading,
    testError,
    source,
    result,
    querying,
    queryError,
    worst,
    worstError,
    compareId,
    compareResult,
    compareError,
    setRun,
    setCompare,
    loadTestImages,
    loadMoreTestImages,
    loadWorst,
    queryImage,
    queryImageId,
    queryBytes,
    queryPath
  }
})
