/**
 * How the app starts its worker processes (the trainer). In Electron the shell installs a
 * `utilityProcess`-based launcher; in Node (CLI, web mode, tests) it is `child_process.fork`.
 * Code that starts workers asks `getProcessLauncher()` and never imports electron.
 *
 * The child side uses `connectToParent()`, which works under both (`process.parentPort` in an
 * Electron utility process, `process.send`/`process.on('message')` under child_process).
 * Only plain, structured-cloneable data crosses the boundary.
 */
import { fork as forkChild, type ChildProcess } from 'node:child_process'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

/** The parent's handle on a started worker process. */
export interface ChildLike {
  /** Posts a message to the child. */
  send(msg: unknown): void
  /** A message from the child. */
  on(event: 'message', listener: (msg: unknown) => void): this
  /** The child ended; `code` is null when it was killed by a signal. */
  on(event: 'exit', listener: (code: number | null) => void): this
  /** Ends the child at once. */
  kill(): void
  /** OS process id, once known. */
  pid?: number
}

/** Starts a module in a separate process. `env` is added to the parent's environment. */
export interface ProcessLauncher {
  fork(modulePath: string, args: string[], env: Record<string, string>): ChildLike
}

/** Named entry modules of worker processes. */
export type EntryName = 'trainer'

const here = dirname(fileURLToPath(import.meta.url))

/** Source entries, used when running TypeScript directly (tsx, vitest). */
const sourceEntries: Record<EntryName, string> = {
  trainer: join(here, '..', 'trainer', 'entry.ts')
}

const entries: Record<EntryName, string> = { ...sourceEntries }

function wrapChildProcess(cp: ChildProcess): ChildLike {
  const child: ChildLike = {
    send(msg) {
      // A child that already exited cannot receive; dropping the message beats crashing the parent.
      if (cp.connected) cp.send(msg as object)
    },
    on(event: 'message' | 'exit', listener: (arg: never) => void) {
      if (event === 'message') cp.on('message', listener as (m: unknown) => void)
      else cp.on('exit', (code: number | null) => (listener as (c: number | null) => void)(code))
      return child
    },
    kill() {
      cp.kill()
    },
    pid: cp.pid
  }
  return child
}

/** tsx's loader as an absolute URL, so the child finds it whatever its working directory. */
function tsxLoaderUrl(): string {
  return pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href
}

/** The Node launcher: `child_process.fork`, running TypeScript through tsx for `.ts` modules. */
export const nodeProcessLauncher: ProcessLauncher = {
  fork(modulePath, args, env) {
    const isTs = /\.(c|m)?ts$/.test(modulePath)
    const cp = forkChild(modulePath, args, {
      env: { ...process.env, ...env },
      // Do not inherit the parent's execArgv (vitest/tsx loaders, inspector flags).
      execArgv: isTs ? ['--import', tsxLoaderUrl()] : [],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc']
    })
    return wrapChildProcess(cp)
  }
}

let current: ProcessLauncher = nodeProcessLauncher

/** The launcher in force (the Node one unless the Electron shell installed its own). */
export function getProcessLauncher(): ProcessLauncher {
  return current
}

/** Installs a launcher (the Electron shell does this at start); `null` restores the Node one. */
export function setProcessLauncher(launcher: ProcessLauncher | null): void {
  current = launcher ?? nodeProcessLauncher
}

/** Path of a worker's entry module: the TypeScript source, unless a bundle path was set. */
export function getEntryPath(name: EntryName): string {
  return entries[name]
}

/** Points an entry at a built file (the Electron shell sets `out/main/trainer.js`). */
export function setEntryPath(name: EntryName, path: string | null): void {
  entries[name] = path ?? sourceEntries[name]
}

/** The child's link to its parent, whichever way it was started. */
export interface ParentLink {
  /** Posts a message to the parent. */
  send(msg: unknown): void
  /** Listens for the parent's messages; returns the unsubscribe function. */
  onMessage(listener: (msg: unknown) => void): () => void
}

interface ElectronParentPort {
  postMessage(msg: unknown): void
  on(event: 'message', l: (e: { data: unknown }) => void): void
  off(event: 'message', l: (e: { data: unknown }) => void): void
}

/** Called inside a worker: the channel to the parent, or null when started stand-alone. */
export function connectToParent(): ParentLink | null {
  const port = (process as unknown as { parentPort?: ElectronParentPort }).parentPort
  if (port) {
    return {
      send: (msg) => port.postMessage(msg),
      onMessage(listener) {
        const l = (e: { data: unknown }): void => listener(e.data)
        port.on('message', l)
        return () => port.off('message', l)
      }
    }
  }
  if (typeof process.send === 'function') {
    return {
      send: (msg) => {
        if (process.connected) process.send!(msg as object)
      },
      onMessage(listener) {
        process.on('message', listener)
        return () => process.off('message', listener)
      }
    }
  }
  return null
}
