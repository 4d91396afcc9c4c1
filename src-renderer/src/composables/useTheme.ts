import { computed, readonly, ref, watchEffect, type ComputedRef, type Ref } from 'vue'

/** The user's theme choice: follow the OS, or always light / dark. */
export type ThemePreference = 'system' | 'light' | 'dark'

/** localStorage key of the theme choice. */
export const THEME_STORAGE_KEY = 'hist.theme'

/** The theme to draw with, from the user's choice and the OS preference. */
export function resolveTheme(pref: ThemePreference, systemDark: boolean): 'light' | 'dark' {
  return pref === 'system' ? (systemDark ? 'dark' : 'light') : pref
}

/** A stored choice, or 'system' for anything else. */
export function parsePreference(raw: string | null | undefined): ThemePreference {
  return raw === 'light' || raw === 'dark' ? raw : 'system'
}

const query =
  typeof window !== 'undefined' && window.matchMedia
    ? window.matchMedia('(prefers-color-scheme: dark)')
    : null
const systemDark = ref(query?.matches ?? false)
query?.addEventListener('change', (e) => {
  systemDark.value = e.matches
})

function readStored(): ThemePreference {
  try {
    return parsePreference(localStorage.getItem(THEME_STORAGE_KEY))
  } catch {
    return 'system'
  }
}
const preference = ref<ThemePreference>(typeof window === 'undefined' ? 'system' : readStored())
const isDark = computed(() => resolveTheme(preference.value, systemDark.value) === 'dark')

if (typeof document !== 'undefined')
  // The stylesheet keys its colours on data-theme on <html>.
  watchEffect(() => {
    const theme = isDark.value ? 'dark' : 'light'
    document.documentElement.dataset.theme = theme
    document.documentElement.style.colorScheme = theme
  })

/** Sets (and remembers) the theme choice. */
function setPreference(p: ThemePreference): void {
  preference.value = p
  try {
    if (p === 'system') localStorage.removeItem(THEME_STORAGE_KEY)
    else localStorage.setItem(THEME_STORAGE_KEY, p)
  } catch {
    /* storage disabled: the choice lasts for this session */
  }
}

/** The theme: whether to draw dark, the user's choice (persisted) and a setter. */
export function useTheme(): {
  isDark: ComputedRef<boolean>
  preference: Readonly<Ref<ThemePreference>>
  setPreference: (p: ThemePreference) => void
} {
  return { isDark, preference: readonly(preference), setPreference }
}
