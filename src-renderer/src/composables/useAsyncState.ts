import { ref, type Ref } from 'vue'
import { errorMessage } from '../api'

/** The state of one user action that calls the backend: busy flag, error text, success text. */
export interface AsyncState {
  busy: Ref<boolean>
  error: Ref<string | null>
  message: Ref<string | null>
  /**
   * Runs `fn`, clearing the old texts first; on success shows `done` (if given), on failure the
   * error's message. Returns whether it succeeded.
   */
  run: (fn: () => Promise<unknown>, done?: string) => Promise<boolean>
  /** Shows an error without running anything (a check that failed before the call). */
  fail: (text: string) => void
}

/** Busy/error/success state for backend actions (save, rename, search …). */
export function useAsyncState(): AsyncState {
  const busy = ref(false)
  const error = ref<string | null>(null)
  const message = ref<string | null>(null)
  async function run(fn: () => Promise<unknown>, done?: string): Promise<boolean> {
    error.value = null
    message.value = null
    busy.value = true
    try {
      await fn()
      if (done) message.value = done
      return true
    } catch (err) {
      error.value = errorMessage(err)
      return false
    } finally {
      busy.value = false
    }
  }
  function fail(text: string): void {
    message.value = null
    error.value = text
  }
  return { busy, error, message, run, fail }
}
