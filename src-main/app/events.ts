import type { AppEvent } from '../../src-preload/contract'

type Listener = (event: AppEvent) => void

/** In-process fan-out of backend events to every transport (Electron IPC, web-mode WebSocket, CLI). */
export class EventBus {
  private listeners = new Set<Listener>()

  /** Sends an event to every listener; a throwing listener never stops the others. */
  emit(event: AppEvent): void {
    for (const l of this.listeners) {
      try {
        l(event)
      } catch (err) {
        console.error('event listener failed', err)
      }
    }
  }

  /** Subscribes; returns the unsubscribe function. */
  on(listener: Listener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }
}
