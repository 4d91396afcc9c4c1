/** `window.api`, exposed by the preload in Electron (web mode builds the same shape over HTTP). */
import type { PreloadApi } from './contract'

declare global {
  interface Window {
    /**
     * The backend API as the preload exposes it (each call answers with its reply envelope);
     * absent in web mode. The renderer uses it only through src-renderer/src/api.
     */
    api: PreloadApi
  }
}

export {}
