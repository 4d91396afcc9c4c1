/**
 * The Electron main entry's lifecycle against a test double of `electron`: at start it
 * registers the media scheme before `ready`, opens the data folder from --data-dir, binds every
 * IPC channel, secures the session, installs the utility-process launcher and opens one window;
 * at quit it stops the services and closes the database.
 */
import { EventEmitter } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { channels } from '../src-preload/contract'

const fake = vi.hoisted(() => ({
  handlers: new Map<string, (event: unknown, payload: unknown) => Promise<unknown>>(),
  privilegedBeforeReady: false,
  ready: false,
  protocolHandled: [] as string[],
  windows: [] as { options: { webPreferences: { preload: string } }; loaded: string }[],
  sessionSecured: false,
  quitCalls: 0,
  releaseReady: () => {},
  app: null as unknown as EventEmitter & { fire(name: string, ...a: unknown[]): void }
}))

vi.mock('electron', async () => {
  const { EventEmitter: Emitter } = await import('node:events')
  let resolveReady: () => void = () => {}
  const readyPromise = new Promise<void>((r) => (resolveReady = r))
  const app = Object.assign(new Emitter(), {
    isPackaged: true,
    whenReady: () => readyPromise,
    getPath: () => '/should-not-be-used',
    quit: () => {
      fake.quitCalls++
      app.emit('will-quit', { preventDefault: () => {} })
    },
    fire(name: string, ...a: unknown[]) {
      app.emit(name, ...a)
    }
  })
  fake.app = app
  fake.releaseReady = () => {
    fake.ready = true
    resolveReady()
  }
  class FakeBrowserWindow extends Emitter {
    webContents: EventEmitter & Record<string, unknown>
    loaded = ''
    constructor(public options: { webPreferences: { preload: string } }) {
      super()
      const wc = new Emitter() as EventEmitter & Record<string, unknown>
      wc.setWindowOpenHandler = () => {}
      wc.isDestroyed = () => false
      wc.getURL = () => this.loaded
      wc.send = () => {}
      this.webContents = wc
      fake.windows.push(this as never)
    }
    loadURL(url: string): Promise<void> {
      this.loaded = url
      return Promise.resolve()
    }
    show(): void {}
    static getAllWindows(): unknown[] {
      return fake.windows
    }
    static getFocusedWindow(): null {
      return null
    }
  }
  return {
    app,
    BrowserWindow: FakeBrowserWindow,
    ipcMain: {
      handle: (ch: string, fn: (event: unknown, payload: unknown) => Promise<unknown>) =>
        fake.handlers.set(ch, fn),
      removeHandler: (ch: string) => fake.handlers.delete(ch)
    },
    protocol: {
      registerSchemesAsPrivileged: () => {
        fake.privilegedBeforeReady = !fake.ready
      },
      handle: (scheme: string) => fake.protocolHandled.push(scheme)
    },
    session: {
      defaultSession: {
        webRequest: { onHeadersReceived: () => {} },
        setPermissionRequestHandler: () => {
          fake.sessionSecured = true
        },
        setPermissionCheckHandler: () => {}
      }
    },
    utilityProcess: { fork: () => new Emitter() },
    dialog: { showOpenDialog: async () => ({ canceled: true, filePaths: [] }) }
  }
})

const dataDir = mkdtempSync(join(tmpdir(), 'hist-main-'))
const argv = process.argv
process.argv = [...argv, `--data-dir=${dataDir}`]
process.env.HIST_BACKEND = 'cpu'

afterAll(() => {
  process.argv = argv
  rmSync(dataDir, { recursive: true, force: true })
})

describe('Electron main entry', () => {
  it('starts: scheme before ready, IPC, session, launcher and one secure window', async () => {
    await import('./index')
    expect(fake.windows.length).toBe(0)
    fake.releaseReady()
    await vi.waitFor(() => expect(fake.windows.length).toBe(1))
    expect(fake.privilegedBeforeReady).toBe(true)
    expect([...fake.handlers.keys()].sort()).toEqual([...channels].sort())
    expect(fake.protocolHandled).toEqual(['hist-media'])
    expect(fake.sessionSecured).toBe(true)
    const win = fake.windows[0]
    expect(win.options.webPreferences.preload).toMatch(/preload[\\/]index\.cjs$/)
    expect(win.loaded).toMatch(/^file:.*\/renderer\/index\.html$/)

    const { getEntryPath, getProcessLauncher, nodeProcessLauncher } =
      await import('./common/processLauncher')
    expect(getProcessLauncher()).not.toBe(nodeProcessLauncher)
    expect(getEntryPath('trainer')).toMatch(/trainer\.js$/)
  })

  it('serves the app page over IPC with the --data-dir folder, and refuses other frames', async () => {
    const status = fake.handlers.get('system.status')!
    const appUrl = fake.windows[0].loaded
    const ok = (await status({ senderFrame: { url: appUrl } }, undefined)) as {
      result: { mode: string; dataDir: string }
    }
    expect(ok.result).toMatchObject({ mode: 'electron', dataDir })
    const refused = (await status(
      { senderFrame: { url: pathToFileURL('/tmp/x.html').href } },
      undefined
    )) as {
      error: { code: string }
    }
    expect(refused.error.code).toBe('unauthorized')
  })

  it('stops the services and closes the database on quit', async () => {
    let prevented = false
    fake.app.fire('will-quit', { preventDefault: () => (prevented = true) })
    expect(prevented).toBe(true)
    await vi.waitFor(() => expect(fake.quitCalls).toBe(1))
    await vi.waitFor(() => expect(fake.handlers.size).toBe(0))
  })
})
