/** Session-wide rules: the CSP header on the app's pages and no permission grants. */
import type { Session } from 'electron'
import { CONTENT_SECURITY_POLICY } from '../app/csp'
import { isAppUrl, type AppPage } from './security'

/**
 * Adds the CSP header to responses for the app's pages (the dev server; file:// pages carry
 * the same policy in their meta tag) and refuses every permission request (camera, geolocation,
 * notifications, …): the app needs none.
 */
export function secureSession(session: Session, page: AppPage): void {
  session.webRequest.onHeadersReceived((details, callback) => {
    if (!isAppUrl(details.url, page)) {
      callback({})
      return
    }
    const headers = { ...(details.responseHeaders ?? {}) }
    for (const key of Object.keys(headers)) {
      if (key.toLowerCase() === 'content-security-policy') delete headers[key]
    }
    headers['Content-Security-Policy'] = [CONTENT_SECURITY_POLICY]
    callback({ responseHeaders: headers })
  })
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false))
  session.setPermissionCheckHandler(() => false)
}
