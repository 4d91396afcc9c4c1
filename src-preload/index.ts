/**
 * The preload (sandboxed, bundled as CommonJS). It exposes named functions only, one per
 * contract method, plus `onEvent` and `mediaUrl`; never ipcRenderer itself. Each call goes to
 * its own channel; the main process validates the payload and checks the sender.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron'
import { apiSchemas, EVENT_CHANNEL, type AppEvent, type HistApi } from './contract'
import { MEDIA_SCHEME, type WireError } from './contract/wire'

type Reply = { result?: unknown } | { error: WireError }

/** Invokes one channel and unwraps its reply; a failure becomes an Error with the same message. */
async function call(channel: string, payload: unknown): Promise<unknown> {
  const reply = (await ipcRenderer.invoke(channel, payload)) as Reply | undefined
  if (reply && 'error' in reply) {
    // Only the message survives the context bridge, so it carries the code too.
    throw new Error(reply.error.message)
  }
  return reply?.result
}

function buildApi(): HistApi {
  const api: Record<string, unknown> = {}
  for (const [service, methods] of Object.entries(apiSchemas)) {
    const bound: Record<string, (payload?: unknown) => Promise<unknown>> = {}
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
  return api as unknown as HistApi
}

contextBridge.exposeInMainWorld('api', buildApi())
