import { defineStore } from 'pinia'
import { ref } from 'vue'
import type {
  AblationVariant,
  ExperimentDetail,
  ExperimentSummary,
  RunProgress,
  SweepAxis,
  TrainConfigInput
} from '../../../src-preload/contract'
import { errorMessage, getApi } from '../api'

/** Sweeps and ablation sets: the list, the open experiment and the live progress of its runs. */
export const useExperimentsStore = defineStore('experiments', () => {
  const list = ref<ExperimentSummary[]>([])
  const loaded = ref(false)
  const error = ref<string | null>(null)
  const current = ref<ExperimentDetail | null>(null)
  const currentError = ref<string | null>(null)
  /** The latest progress of each run that is training now. */
  const progress = ref<Record<number, RunProgress>>({})

  // Refreshes overlap under load; only the latest request's answer may land, or an older,
  // slower answer would overwrite a fresher one and leave the page stale.
  let loadSeq = 0
  let openSeq = 0

  async function load(): Promise<void> {
    const seq = ++loadSeq
    try {
      const l = await getApi().experiments.list()
      if (seq !== loadSeq) return
      list.value = l
      error.value = null
    } catch (err) {
      if (seq === loadSeq) error.value = errorMessage(err)
    } finally {
      loaded.value = true
    }
  }

  /** The experiment the page shows (what refreshes reload, even before its first answer). */
  let viewed: number | null = null

  async function open(id: number): Promise<void> {
    viewed = id
    const seq = ++openSeq
    try {
      const e = await getApi().experiments.get({ id })
      if (seq !== openSeq) return
      current.value = e
      currentError.value = null
    } catch (err) {
      if (seq === openSeq) currentError.value = errorMessage(err)
    }
  }

  async function createSweep(
    base: TrainConfigInput,
    axes: SweepAxis[],
    name?: string
  ): Promise<ExperimentDetail> {
    const e = await getApi().experiments.createSweep({ base, axes, name })
    void load()
    return e
  }

  async function createAblation(
    base: TrainConfigInput,
    variants: AblationVariant[],
    name?: string
  ): Promise<ExperimentDetail> {
    const e = await getApi().experiments.createAblation({ base, variants, name })
    void load()
    return e
  }

  async function cancel(id: number): Promise<void> {
    await getApi().experiments.cancel({ id })
    await open(id)
  }

  async function remove(id: number): Promise<void> {
    await getApi().experiments.remove({ id })
    list.value = list.value.filter((e) => e.id !== id)
    if (current.value?.id === id) current.value = null
  }

  /** Whether a run belongs to the shown experiment (not loaded yet: assume it does). */
  const ownsRun = (runId: number): boolean =>
    viewed !== null &&
    (current.value?.id !== viewed || current.value.points.some((p) => p.runId === runId))
  let timer: ReturnType<typeof setTimeout> | null = null
  /** Refetches the open experiment (and the list) at most every 300 ms. */
  function refreshSoon(): void {
    if (timer) return
    timer = setTimeout(() => {
      timer = null
      if (viewed !== null) void open(viewed)
      if (loaded.value) void load()
    }, 300)
  }

  getApi().onEvent((e) => {
    if (e.type === 'run.progress') {
      if (ownsRun(e.progress.runId))
        progress.value = { ...progress.value, [e.progress.runId]: e.progress }
    } else if (e.type === 'run.status' || e.type === 'run.epoch') {
      if (e.type === 'run.status' && e.status !== 'running') {
        const { [e.runId]: _gone, ...rest } = progress.value
        progress.value = rest
      }
      if (ownsRun(e.runId) || loaded.value) refreshSoon()
    } else if (e.type === 'runs.changed') refreshSoon()
  })

  return {
    list,
    loaded,
    error,
    current,
    currentError,
    progress,
    load,
    open,
    createSweep,
    createAblation,
    cancel,
    remove
  }
})
