/**
 * The retrieval browser's state in the route, so that links, reloads and Back work:
 * #/retrieval?run=<id>[&gallery=train|all][&query=<imageId>][&compare=<id>][&classes=1,2]
 * (`image=` is an alias of `query=`). Choices push a route; the route drives the store.
 */
import { storeToRefs } from 'pinia'
import { onMounted, watch, type ComputedRef } from 'vue'
import { useRoute, useRouter } from 'vue-router'
import type { GalleryScope, ImageRef, RunSummary } from '../../../src-preload/contract'
import { useRetrievalStore } from '../stores/retrieval'

const routeNum = (v: unknown): number => (typeof v === 'string' ? Number(v) : NaN)

/** The gallery named in the route ('test' when absent or unknown). */
export function parseGallery(v: unknown): GalleryScope {
  return v === 'train' || v === 'all' ? v : 'test'
}

/** Class ids from "1,2,3" (bad entries dropped, order kept, no duplicates). */
export function parseClassIds(v: unknown): number[] {
  if (typeof v !== 'string' || !v) return []
  const out: number[] = []
  for (const part of v.split(',')) {
    const n = Number(part)
    if (Number.isInteger(n) && n > 0 && !out.includes(n)) out.push(n)
  }
  return out
}

/** Binds the retrieval store to the route; returns the handlers of the view's choices. */
export function useRetrievalRoute(
  usable: ComputedRef<RunSummary[]>,
  current: ComputedRef<RunSummary | null>,
  loadRuns: () => Promise<void>
): {
  chooseRun(runId: number): void
  chooseCompare(runId: number | null): void
  chooseGallery(scope: GalleryScope): void
  chooseClasses(classIds: number[]): void
  pick(img: ImageRef): void
  forgetQuery(): void
} {
  const store = useRetrievalStore()
  const { runId, source, compareId, gallery, classIds } = storeToRefs(store)
  const route = useRoute()
  const router = useRouter()
  // The browser's own path: route updates for other pages (after the user has left, before this
  // view unmounts or while it awaits) must not drive the store or be rewritten.
  const home = route.path

  async function fromRoute(): Promise<void> {
    const r = routeNum(route.query.run)
    if (!(r > 0)) return
    const img = routeNum(route.query.query ?? route.query.image)
    const cmp = routeNum(route.query.compare)
    const g = parseGallery(route.query.gallery)
    const runChanged = r !== runId.value
    const galleryChanged = g !== gallery.value
    if (runChanged) {
      // setRun loads the lists of the new run for this gallery.
      gallery.value = g
      await store.setRun(r)
    } else if (galleryChanged) await store.setGallery(g)
    const classesChanged = store.setClassIds(parseClassIds(route.query.classes))
    await store.setCompare(cmp > 0 && cmp !== r ? cmp : null)
    const shown = source.value?.kind === 'image' ? source.value.image.id : null
    if (img > 0 && (runChanged || galleryChanged || classesChanged || shown !== img))
      await store.queryImageId(img)
    else if (!(img > 0) && classesChanged) await store.requery()
  }

  /** The route for a run: the gallery always; query, compared run and classes when kept. */
  function routeFor(run: number, keepQuery: boolean): Record<string, string> {
    const q: Record<string, string> = { run: String(run) }
    if (gallery.value !== 'test') q.gallery = gallery.value
    if (keepQuery && source.value?.kind === 'image') q.query = String(source.value.image.id)
    if (keepQuery && compareId.value !== null && compareId.value !== run)
      q.compare = String(compareId.value)
    if (keepQuery && classIds.value.length) q.classes = classIds.value.join(',')
    return q
  }

  onMounted(async () => {
    await loadRuns()
    // The user may have left (e.g. Back) while the runs loaded: a replace now would rewrite the
    // query of the page they went to (it dropped the run view's ?tab=).
    if (route.path !== home) return
    if (!route.query.run && runId.value === null && usable.value.length)
      void router.replace({ query: { run: String(usable.value[0].id) } })
    else if (!route.query.run && runId.value !== null)
      void router.replace({ query: routeFor(runId.value, true) })
    await fromRoute()
  })
  watch(
    () => route.query,
    () => {
      if (route.path === home) void fromRoute()
    }
  )

  return {
    chooseRun(v) {
      // The query (and class filter) stays when the new run ranks the same images (same dataset).
      const same = usable.value.find((r) => r.id === v)?.datasetId === current.value?.datasetId
      void router.push({ query: routeFor(v, same) })
    },
    chooseCompare(v) {
      const q = { ...routeFor(runId.value ?? 0, true) }
      if (v !== null && v > 0) q.compare = String(v)
      else delete q.compare
      void router.push({ query: q })
    },
    chooseGallery(scope) {
      const q = { ...routeFor(runId.value ?? 0, true) }
      delete q.classes
      // Every image is in the whole dataset; the train and test splits hold only their own.
      if (scope !== 'all') delete q.query
      if (scope === 'test') delete q.gallery
      else q.gallery = scope
      void router.push({ query: q })
    },
    chooseClasses(ids) {
      const q = { ...routeFor(runId.value ?? 0, true) }
      if (ids.length) q.classes = ids.join(',')
      else delete q.classes
      void router.push({ query: q })
    },
    pick(img) {
      void router.push({ query: { ...routeFor(runId.value ?? 0, true), query: String(img.id) } })
    },
    forgetQuery() {
      if (runId.value === null) return
      const q = routeFor(runId.value, false)
      if (classIds.value.length) q.classes = classIds.value.join(',')
      void router.replace({ query: q })
    }
  }
}
