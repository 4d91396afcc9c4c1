/**
 * `getApi()`: the one way the renderer reaches the backend. In Electron the preload exposes
 * `window.api`; in a browser (web mode) the same HistApi is built over HTTP + WebSocket.
 */
import type { HistApi, PreloadApi } from '../../../src-preload/contract'
import { createIpcApi } from './ipc'
import { takeToken } from './token'
import { createWebApi } from './web'

export { ApiError, errorIssues, errorMessage } from './errors'

let current: HistApi | null = null

/** True when running inside the Electron shell (the preload exposed `window.api`). */
export function isElectron(): boolean {
  return typeof window !== 'undefined' && !!(window as unknown as { api?: PreloadApi }).api
}

/** The API for this page, created on first use. */
export function getApi(): HistApi {
  if (current) return current
  const w = window as unknown as { api?: PreloadApi }
  if (w.api) {
    current = createIpcApi(w.api)
  } else {
    const token = takeToken(window)
    const wsOrigin = window.location.origin.replace(/^http/, 'ws')
    current = createWebApi({ origin: '', wsOrigin, token })
  }
  return current
}

/** Replaces the API (unit tests inject a test double). */
export function setApi(api: HistApi | null): void {
  current = api
}
