import { ref, watch, type Ref } from 'vue'

/** A ref persisted in localStorage under `key` (JSON); falls back to `initial` on any problem. */
export function useStoredRef<T>(key: string, initial: T): Ref<T> {
  let start = initial
  try {
    const raw = localStorage.getItem(key)
    if (raw !== null) start = JSON.parse(raw) as T
  } catch {
    start = initial
  }
  const r = ref(start) as Ref<T>
  watch(r, (v) => {
    try {
      localStorage.setItem(key, JSON.stringify(v))
    } catch {
      /* storage full or disabled: keep the value for this session only */
    }
  })
  return r
}
