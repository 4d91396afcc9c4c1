import { readonly, ref } from 'vue'

const query =
  typeof window !== 'undefined' && window.matchMedia
    ? window.matchMedia('(prefers-color-scheme: dark)')
    : null
const dark = ref(query?.matches ?? false)
query?.addEventListener('change', (e) => {
  dark.value = e.matches
})

/** Whether the OS asks for a dark theme; follows changes live. */
export function useTheme(): { isDark: Readonly<typeof dark> } {
  return { isDark: readonly(dark) }
}
