import { defineStore } from 'pinia'
import { computed, reactive, ref, watch } from 'vue'
import type { DatasetDetail, ProbeResult, RunSummary } from '../../../src-preload/contract'
import { errorIssues, errorMessage, getApi } from '../api'
import { mapServerIssues, type FieldErrors } from '../forms/issues'
import {
  applyPreset,
  errorsOfStep,
  FORM_STORAGE_KEY,
  formFromConfig,
  presetOf,
  restoreForm,
  STEPS,
  validateForm,
  type Preset,
  type StepId,
  type TrainForm
} from '../forms/trainForm'
import { defaultSplitForm } from '../forms/splitForm'
import { configWarnings } from '../forms/trainWarnings'
import type { TrainConfig } from '../../../src-preload/contract'

function storage(): Storage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage
  } catch {
    return null
  }
}

/** localStorage key of the dataset the remembered split was made for. */
export const SPLIT_OWNER_KEY = 'hist.wizard.splitFor'

function storedNumber(key: string): number | null {
  const n = Number(storage()?.getItem(key) ?? NaN)
  return Number.isInteger(n) && n > 0 ? n : null
}

/** The training wizard: its entries (remembered across sessions), step, probe and start. */
export const useWizardStore = defineStore('wizard', () => {
  const form = reactive<TrainForm>(restoreForm(storage()?.getItem(FORM_STORAGE_KEY) ?? null))
  const step = ref<StepId>('dataset')
  /** The chosen dataset's detail (classes, groups) for split checks and warnings. */
  const dataset = ref<DatasetDetail | null>(null)
  const datasetError = ref<string | null>(null)
  /** Steps the user tried to leave: their errors are shown from then on. */
  const touched = ref<Set<StepId>>(new Set())
  const probe = ref<ProbeResult | null>(null)
  const probeError = ref<string | null>(null)
  const probing = ref(false)
  const starting = ref(false)
  const startError = ref<string | null>(null)
  /** Errors the backend reported for fields (when it disagrees with the local check). */
  const serverErrors = ref<FieldErrors>({})

  watch(
    form,
    () => {
      storage()?.setItem(FORM_STORAGE_KEY, JSON.stringify(form))
      serverErrors.value = {}
    },
    { deep: true }
  )

  const check = computed(() => validateForm(form, dataset.value))
  /** Every field error, local and from the backend. */
  const errors = computed<FieldErrors>(() => ({ ...serverErrors.value, ...check.value.errors }))
  const config = computed<TrainConfig | null>(() => check.value.config)
  const preset = computed(() => presetOf(form))
  const warnings = computed(() => (config.value ? configWarnings(config.value, dataset.value) : []))
  const stepIndex = computed(() => STEPS.indexOf(step.value))

  /** Fields the user has edited: their errors show at once (inline validation). */
  const dirty = ref<Set<string>>(new Set())

  /** Errors to show on a step: edited fields at once, all once the user tried to go past it. */
  function visibleErrors(s: StepId): FieldErrors {
    const all = errorsOfStep(errors.value, s)
    if (touched.value.has(s)) return all
    return Object.fromEntries(
      Object.entries(all).filter(([k]) =>
        [...dirty.value].some((d) => k === d || k.startsWith(`${d}.`))
      )
    )
  }

  /** Marks a field as edited by the user. */
  function markDirty(key: string): void {
    if (!dirty.value.has(key)) dirty.value = new Set([...dirty.value, key])
  }

  /** Loads the chosen dataset's detail. */
  async function loadDataset(): Promise<void> {
    const id = form.datasetId
    if (id === null) {
      dataset.value = null
      return
    }
    try {
      const d = await getApi().datasets.get({ id })
      if (form.datasetId === id) {
        dataset.value = d
        // A split just reset for this dataset: size its class ranges to the dataset.
        if (freshSplit === id) form.split = defaultSplitForm(d.classCount)
        freshSplit = null
        datasetError.value = null
      }
    } catch (err) {
      dataset.value = null
      datasetError.value = errorMessage(err)
      // The remembered dataset was deleted: let the user choose again.
      if (form.datasetId === id) form.datasetId = null
    }
  }
  /**
   * The dataset the form's split belongs to. A split names classes or groups of one dataset, so
   * choosing another dataset starts from that dataset's own split.
   */
  let splitFor = storedNumber(SPLIT_OWNER_KEY)
  let freshSplit: number | null = null
  function ownSplit(id: number | null): void {
    splitFor = id
    if (id === null) storage()?.removeItem(SPLIT_OWNER_KEY)
    else storage()?.setItem(SPLIT_OWNER_KEY, String(id))
  }
  watch(
    () => form.datasetId,
    (id) => {
      if (id !== null && id !== splitFor) {
        form.split = defaultSplitForm()
        freshSplit = id
        ownSplit(id)
      }
      void loadDataset()
    }
  )

  /** Goes to a step; moving forward is refused while the current step has errors. */
  function goTo(target: StepId): boolean {
    const from = stepIndex.value
    const to = STEPS.indexOf(target)
    if (to > from) {
      for (let i = from; i < to && i < 3; i++) {
        const s = STEPS[i]
        touched.value = new Set([...touched.value, s])
        if (Object.keys(errorsOfStep(errors.value, s)).length) {
          step.value = s
          return false
        }
      }
    }
    step.value = target
    if (target === 'review') void runProbe()
    return true
  }

  /** Next / back buttons. */
  const next = (): boolean => goTo(STEPS[Math.min(stepIndex.value + 1, STEPS.length - 1)])
  const back = (): boolean => goTo(STEPS[Math.max(stepIndex.value - 1, 0)])

  /** Times a few real batches for the time and memory estimate. */
  async function runProbe(): Promise<void> {
    const c = config.value
    if (!c) return
    probing.value = true
    probe.value = null
    probeError.value = null
    try {
      const r = await getApi().runs.probe(c)
      if (JSON.stringify(config.value) === JSON.stringify(c)) probe.value = r
    } catch (err) {
      probeError.value = errorMessage(err)
    } finally {
      probing.value = false
    }
  }

  /** Starts the run; returns it, or null with startError / serverErrors set. */
  async function start(): Promise<RunSummary | null> {
    const c = config.value
    if (!c) return null
    starting.value = true
    startError.value = null
    try {
      return await getApi().runs.start(c)
    } catch (err) {
      startError.value = errorMessage(err)
      serverErrors.value = mapServerIssues(errorIssues(err))
      return null
    } finally {
      starting.value = false
    }
  }

  /** Applies one of the presets. */
  function usePreset(id: Preset['id']): void {
    applyPreset(form, id)
  }

  /** Fills the form from an earlier run's config (train again). */
  function loadConfig(c: TrainConfig): void {
    ownSplit(c.datasetId)
    Object.assign(form, formFromConfig(c))
    step.value = 'dataset'
  }

  /** Starts over with the contract's defaults, keeping the dataset. */
  function reset(): void {
    const id = form.datasetId
    Object.assign(form, restoreForm(null))
    form.datasetId = id
    touched.value = new Set()
    dirty.value = new Set()
    step.value = 'dataset'
  }

  if (form.datasetId !== null) void loadDataset()

  return {
    form,
    step,
    stepIndex,
    dataset,
    datasetError,
    errors,
    config,
    preset,
    warnings,
    probe,
    probeError,
    probing,
    starting,
    startError,
    visibleErrors,
    markDirty,
    goTo,
    next,
    back,
    runProbe,
    start,
    usePreset,
    loadConfig,
    reset,
    loadDataset
  }
})
