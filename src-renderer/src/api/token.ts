/** Key under which the web-mode token is kept for the browser tab's lifetime. */
export const TOKEN_STORAGE_KEY = 'hist.token'

/** The parts of `window` the token logic needs (injectable for tests). */
export interface TokenEnv {
  location: { href: string }
  history: { replaceState(data: unknown, unused: string, url?: string): void; state: unknown }
  sessionStorage: { getItem(k: string): string | null; setItem(k: string, v: string): void }
}

/**
 * Reads `?token=` from the page URL, keeps it in sessionStorage and removes it from the address
 * bar (so it is not bookmarked or shared by accident). Falls back to the stored token on reload.
 */
export function takeToken(env: TokenEnv): string | null {
  const url = new URL(env.location.href)
  const fromUrl = url.searchParams.get('token')
  if (fromUrl) {
    env.sessionStorage.setItem(TOKEN_STORAGE_KEY, fromUrl)
    url.searchParams.delete('token')
    env.history.replaceState(env.history.state, '', url.pathname + url.search + url.hash)
    return fromUrl
  }
  return env.sessionStorage.getItem(TOKEN_STORAGE_KEY)
}
