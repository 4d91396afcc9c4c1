/**
 * The preload (sandboxed, bundled as CommonJS). It exposes named functions only, one per
 * contract method, plus `onEvent` and `mediaUrl`; never ipcRenderer itself. Each call goes to
 * its own channel; the main process validates the payload and checks the sender.
 *
 * A call answers with its reply envelope (`{ result }` or `{ error: WireError }`), passed through
 * as plain data: an Error thrown across the context bridge would keep only its message, and
 * the renderer's client (src-renderer/src/api) raises the same typed error as in web mode.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron'
import {
  apiSchemas,
  EVENT_CHANNEL,
  type AppEvent,
  type CallReply,
  type PreloadApi
} from './contract'
import { MEDIA_SCHEME } from './contract/wire'

/** Invokes one channel; its reply envelope comes back unchanged (`{}` for no reply). */
async function call(channel: string, payload: unknown): Promise<CallReply> {
  const reply = (await ipcRenderer.invoke(channel, payload)) as CallReply | undefined
  return reply ?? {}
}

function buildApi(): PreloadApi {
  const api: Record<string, unknown> = {}
  for (const [service, methods] of Object.entries(apiSchemas)) {
    const bound: Record<string, (payload?: unknown) => Promise<CallReply>> = {}
    for (const method of Object.keys(methods)) {
      const channel = `${service}.${method}`
      bound[method] = (payload?: unknown) => call(channel, payload)
    }
    api[service] = bound
  }
  api.onEvent = (listener: (event: AppEvent) => void): (() => void) => {
    const handler = (_e: IpcRendererEvent, event: AppEvent): void => listener(event)
    ipcRenderer.on(EVENT_CHANNEL, handler)
    return () => {
      ipcRenderer.removeListener(EVENT_CHANNEL, handler)
    }
  }
  api.mediaUrl = (kind: 'image' | 'thumb', imageId: number): string => {
    if (kind !== 'image' && kind !== 'thumb') throw new Error(`unknown media kind ${String(kind)}`)
    if (!Number.isInteger(imageId) || imageId <= 0)
      throw new Error(`bad image id ${String(imageId)}`)
    return `${MEDIA_SCHEME}://${kind}/${imageId}`
  }
  return api as unknown as PreloadApi
}

contextBridge.exposeInMainWorld('api', buildApi())
