/** Forwards backend events to the app's windows over the event channel. */
import { BrowserWindow } from 'electron'
import { EVENT_CHANNEL } from '../../src-preload/contract'
import type { EventBus } from '../app/events'
import type { SenderCheck } from './ipc'

/** Sends every event to each window that shows the app page; returns the unsubscribe function. */
export function forwardEvents(events: EventBus, isTrusted: SenderCheck): () => void {
  return events.on((event) => {
    for (const win of BrowserWindow.getAllWindows()) {
      const wc = win.webContents
      if (!wc.isDestroyed() && isTrusted(wc.getURL())) wc.send(EVENT_CHANNEL, event)
    }
  })
}
