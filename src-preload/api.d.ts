/** `window.api`, exposed by the preload in Electron (web mode builds the same shape over HTTP). */
import type { HistApi } from './contract'

declare global {
  interface Window {
    /** The typed backend API; absent in web mode, where src-renderer/src/api builds it. */
    api: HistApi
  }
}

export {}
