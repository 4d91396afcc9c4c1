import { defineStore } from 'pinia'
import { computed, ref, watch } from 'vue'
import { useStoredRef } from '../composables/useStoredRef'
import { DEFAULT_COLUMNS, parseFilter, RUNS_COLUMNS } from './runsColumns'
import { useRunsStore } from './runs'
import type { RunSummary } from '../../../src-preload/contract'

export type RunsGroupBy = 'none' | 'dataset' | 'tag'

/** View state of the runs table: sort, filter, columns (persisted), grouping, selection. */
export const useRunsTableStore = defineStore('runsTable', () => {
  const runs = useRunsStore()
  const sort = ref<string | undefined>(undefined)
  const desc = ref(false)
  const filterText = ref('')
  const filterError = ref<string | null>(null)
  /** The filter text does not parse: the list still holds the previous filter's runs. */
  const filterInvalid = ref(false)
  const visible = useStoredRef<string[]>('hist.runs.columns', DEFAULT_COLUMNS)
  const groupBy = useStoredRef<RunsGroupBy>('hist.runs.groupBy', 'none')
  const selected = ref<number[]>([])

  const columns = computed(() => RUNS_COLUMNS.filter((c) => visible.value.includes(c.key)))

  /** Click on a header: sort by it, then flip the direction. */
  function sortBy(key: string): void {
    if (sort.value === key) desc.value = !desc.value
    else {
      sort.value = key
      desc.value = false
    }
  }

  function apply(): void {
    const f = parseFilter(filterText.value)
    filterError.value = f.error ?? null
    filterInvalid.value = Boolean(f.error)
    if (f.error) return
    runs.query = { sort: sort.value, desc: desc.value, filters: f.filters, tag: f.tag }
    void runs.load()
  }
  watch([sort, desc], apply)

  /** Runs in groups (one group without a title when not grouping); a run with 2 tags is in 2. */
  const groups = computed<{ title: string; runs: RunSummary[] }[]>(() => {
    if (groupBy.value === 'none') return [{ title: '', runs: runs.list }]
    const m = new Map<string, RunSummary[]>()
    for (const r of runs.list) {
      const keys =
        groupBy.value === 'dataset' ? [r.datasetName] : r.tags.length ? r.tags : ['(no tag)']
      for (const k of keys) m.set(k, [...(m.get(k) ?? []), r])
    }
    return [...m.entries()].map(([title, list]) => ({ title, runs: list }))
  })

  return {
    sort,
    desc,
    filterText,
    filterError,
    filterInvalid,
    visible,
    groupBy,
    selected,
    columns,
    groups,
    sortBy,
    apply
  }
})
