/**
 * The only place that touches ipcMain. `handle` registers a channel whose sender must be the
 * app's own page; `bindIpc` binds every channel of the contract to the services through the
 * transport-neutral `dispatch` (which validates payloads before a service is called).
 */
import { ipcMain, type IpcMainInvokeEvent } from 'electron'
import { channels, type ServiceName, type Services } from '../../src-preload/contract'
import { dispatch, type CallResponse } from '../dispatch'

/** Every channel name of the contract, as a type: `datasets.list`, `runs.start`, … */
export type Channel = {
  [S in ServiceName]: `${S}.${Extract<keyof Services[S], string>}`
}[ServiceName]

/** Decides whether a frame URL may call the API. */
export type SenderCheck = (frameUrl: string | undefined) => boolean

/** The answer to a call from an untrusted frame. */
export const UNTRUSTED_SENDER: CallResponse = {
  error: { message: 'refused: the caller is not the app page', code: 'unauthorized' }
}

/** Registers one channel; calls from any frame other than the app page are refused. */
export function handle(
  channel: Channel,
  listener: (payload: unknown, event: IpcMainInvokeEvent) => Promise<CallResponse>,
  isTrusted: SenderCheck
): void {
  ipcMain.handle(channel, async (event, payload: unknown) => {
    const url = event.senderFrame?.url
    if (!isTrusted(url)) {
      console.warn(`refused IPC ${channel} from ${url ?? 'a destroyed frame'}`)
      return UNTRUSTED_SENDER
    }
    return listener(payload, event)
  })
}

/** Binds every contract channel to the services; returns a function that removes them all. */
export function bindIpc(services: Services, isTrusted: SenderCheck): () => void {
  for (const channel of channels as Channel[]) {
    handle(channel, (payload) => dispatch(services, channel, payload), isTrusted)
  }
  return () => {
    for (const channel of channels) ipcMain.removeHandler(channel)
  }
}
