/**
 * Which URLs are the app's own page. Plain code (no electron import) so that the sender checks,
 * the navigation guard and the CSP header share one rule and can be tested directly.
 */
import { pathToFileURL } from 'node:url'

/** Where the renderer is loaded from. */
export interface AppPage {
  /** The Vite dev server URL (electron-vite sets ELECTRON_RENDERER_URL in `npm run dev`). */
  devUrl?: string
  /** The built page, out/renderer/index.html, used when there is no dev server. */
  indexFile: string
}

/** The URL the main window loads. */
export function appPageUrl(page: AppPage): string {
  return page.devUrl ?? pathToFileURL(page.indexFile).href
}

/**
 * True when `url` is the app's own page: same origin as the dev server, or exactly the built
 * index.html file (any query or hash). Everything else (other files, other sites, about:blank,
 * data: URLs, a missing URL) is refused.
 */
export function isAppUrl(url: string | undefined | null, page: AppPage): boolean {
  if (!url) return false
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return false
  }
  if (page.devUrl) {
    const dev = new URL(page.devUrl)
    return (
      (parsed.protocol === 'http:' || parsed.protocol === 'https:') && parsed.origin === dev.origin
    )
  }
  if (parsed.protocol !== 'file:') return false
  parsed.hash = ''
  parsed.search = ''
  return parsed.href === pathToFileURL(page.indexFile).href
}
