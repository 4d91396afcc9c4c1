import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import type { BackendReport, SystemStatus } from '../../../src-preload/contract'
import { errorMessage, getApi, isElectron } from '../api'
import { backendLines } from './backendLines'

/** App version, data folder, mode and the TensorFlow.js backend report. */
export const useSystemStore = defineStore('system', () => {
  const status = ref<SystemStatus | null>(null)
  const backend = ref<BackendReport | null>(null)
  const error = ref<string | null>(null)

  /** True in a browser (no native pickers; paths are typed). */
  const isWeb = computed(() => (status.value ? status.value.mode === 'web' : !isElectron()))
  /** Lines for the status bar, one per backend candidate. */
  const lines = computed(() => backendLines(backend.value))

  /** Loads the status once at start. */
  async function load(): Promise<void> {
    try {
      const s = await getApi().system.status()
      status.value = s
      if (s.backend) backend.value = s.backend
      error.value = null
    } catch (err) {
      error.value = errorMessage(err)
    }
  }

  /** Native folder picker; null in web mode or when cancelled. */
  async function pickFolder(): Promise<string | null> {
    return getApi().system.pickFolder()
  }

  /** Native image picker; null in web mode or when cancelled. */
  async function pickImage(): Promise<string | null> {
    return getApi().system.pickImage()
  }

  getApi().onEvent((e) => {
    if (e.type === 'backend') backend.value = e.backend
  })

  return { status, backend, error, isWeb, lines, load, pickFolder, pickImage }
})
