/**
 * The `hist-media:` scheme serving dataset images to the renderer
 * (`hist-media://image/<id>`, `hist-media://thumb/<id>`, `hist-media://file/<datasetId>/<relPath>`).
 */
import { protocol } from 'electron'
import { MEDIA_SCHEME } from '../../src-preload/contract/wire'
import type { MediaSource } from '../app/media'

/** Registers the scheme as privileged; must run before the app is ready. */
export function registerMediaScheme(): void {
  protocol.registerSchemesAsPrivileged([
    {
      scheme: MEDIA_SCHEME,
      // standard: parsed like http (host + path); secure: no mixed-content warnings;
      // supportFetchAPI: <img> and fetch() both work. It does not bypass the CSP.
      privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true }
    }
  ])
}

/** The media path of a `hist-media:` URL (`hist-media://image/12` → `image/12`), still encoded. */
export function mediaPathOf(url: string): string | null {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return null
  }
  if (parsed.protocol !== `${MEDIA_SCHEME}:`) return null
  // Kept URL-encoded: the media resolver decodes each segment exactly once.
  const path = `${parsed.host}${parsed.pathname}`
  if (!parsed.host || /%00/.test(path)) return null
  return path.replace(/\/+$/, '')
}

/** The request handler: resolves the media path and answers with its bytes (or an error status). */
export function createMediaHandler(
  media: MediaSource | null
): (request: Request) => Promise<Response> {
  return async (request) => {
    const path = mediaPathOf(request.url)
    if (path === null) return new Response('bad media URL', { status: 400 })
    if (request.method !== 'GET' && request.method !== 'HEAD')
      return new Response(null, { status: 405 })
    if (!media) return new Response('media is not available yet', { status: 503 })
    try {
      const m = await media(path)
      const body = typeof m.body === 'string' ? m.body : new Uint8Array(m.body)
      return new Response(request.method === 'HEAD' ? null : body, {
        status: m.status,
        headers: {
          'Content-Type': m.contentType,
          'X-Content-Type-Options': 'nosniff',
          ...(m.headers ?? {})
        }
      })
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err)
      return new Response(message, { status: 500 })
    }
  }
}

/** Installs the handler (after the app is ready). */
export function installMediaProtocol(media: MediaSource | null): void {
  protocol.handle(MEDIA_SCHEME, createMediaHandler(media))
}
