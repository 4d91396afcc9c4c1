/**
 * The one Content-Security-Policy of the app's pages (plain data, no electron import, so web
 * mode shares it). Scripts only from the app itself (no eval: ECharts and Vue's runtime build
 * do not need it); inline styles are allowed because Vue transitions and ECharts set them;
 * images come from `hist-media:` (Electron), same-origin `/media/` (web mode), data: and blob:
 * (canvas exports); connections go to the app itself and to the loopback WebSocket (web-mode
 * events, Vite's HMR socket in development).
 */

/** Directives shared by the meta tag and the response header. */
export const CSP_DIRECTIVES: readonly string[] = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob: hist-media:",
  "font-src 'self' data:",
  "connect-src 'self' ws://127.0.0.1:* ws://localhost:*",
  "worker-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'"
]

/** The policy for `<meta http-equiv="Content-Security-Policy">` in src-renderer/index.html. */
export const META_CONTENT_SECURITY_POLICY = CSP_DIRECTIVES.join('; ')

/** The policy sent as a response header (frame-ancestors only works in a header). */
export const CONTENT_SECURITY_POLICY = [...CSP_DIRECTIVES, "frame-ancestors 'none'"].join('; ')
