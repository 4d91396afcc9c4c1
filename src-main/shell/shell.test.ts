/**
 * The Electron shell's own pieces against a test double of the `electron` module: window
 * options, navigation / window.open refusal, IPC sender checks, the media protocol, the CSP
 * header, the utility-process launcher and the pickers.
 */
import { EventEmitter } from 'node:events'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { channels, type Services } from '../../src-preload/contract'
import { stubService } from '../services/services.testutil'

const fake = vi.hoisted(() => {
  const handlers = new Map<string, (event: unknown, payload: unknown) => Promise<unknown>>()
  return {
    handlers,
    ipcMain: {
      handle: (ch: string, fn: (event: unknown, payload: unknown) => Promise<unknown>) => {
        if (handlers.has(ch)) throw new Error(`second handler for ${ch}`)
        handlers.set(ch, fn)
      },
      removeHandler: (ch: string) => handlers.delete(ch)
    },
    privileged: [] as unknown[],
    protocolHandlers: new Map<string, (req: Request) => Promise<Response>>(),
    forks: [] as {
      modulePath: string
      args: string[]
      options: Record<string, unknown>
      proc: unknown
    }[],
    dialogResult: { canceled: false, filePaths: ['/picked/folder'] } as {
      canceled: boolean
      filePaths: string[]
    },
    dialogCalls: [] as unknown[],
    windows: [] as unknown[]
  }
})

vi.mock('electron', async () => {
  const { EventEmitter: Emitter } = await import('node:events')
  class FakeUtilityProcess extends Emitter {
    pid = 4242
    posted: unknown[] = []
    killed = false
    postMessage(m: unknown): void {
      this.posted.push(m)
    }
    kill(): boolean {
      this.killed = true
      this.emit('exit', 0)
      return true
    }
  }
  class FakeBrowserWindow extends Emitter {
    options: unknown
    loaded: string | null = null
    webContents: unknown
    constructor(options: unknown) {
      super()
      this.options = options
      const wc = new Emitter() as EventEmitter & Record<string, unknown>
      wc.setWindowOpenHandler = (fn: unknown) => {
        wc.openHandler = fn
      }
      this.webContents = wc
      fake.windows.push(this)
    }
    loadURL(url: string): Promise<void> {
      this.loaded = url
      return Promise.resolve()
    }
    show(): void {}
    static getAllWindows(): unknown[] {
      return fake.windows
    }
    static getFocusedWindow(): unknown {
      return null
    }
  }
  return {
    ipcMain: fake.ipcMain,
    BrowserWindow: FakeBrowserWindow,
    protocol: {
      registerSchemesAsPrivileged: (s: unknown[]) => fake.privileged.push(...s),
      handle: (scheme: string, fn: (req: Request) => Promise<Response>) =>
        fake.protocolHandlers.set(scheme, fn)
    },
    utilityProcess: {
      fork: (modulePath: string, args: string[], options: Record<string, unknown>) => {
        const proc = new FakeUtilityProcess()
        fake.forks.push({ modulePath, args, options, proc })
        return proc
      }
    },
    dialog: {
      showOpenDialog: async (opts: unknown) => {
        fake.dialogCalls.push(opts)
        return fake.dialogResult
      }
    }
  }
})

const { windowOptions, hardenWebContents, createMainWindow } = await import('./window')
const { bindIpc, handle, UNTRUSTED_SENDER } = await import('./ipc')
const { registerMediaScheme, installMediaProtocol, createMediaHandler, mediaPathOf } =
  await import('./protocol')
const { secureSession } = await import('./session')
const { createUtilityProcessLauncher } = await import('./processLauncher')
const { electronPickers } = await import('./dialogs')
const { isAppUrl } = await import('./security')
const { CONTENT_SECURITY_POLICY } = await import('../app/csp')

const indexFile = join('/opt/hist', 'out', 'renderer', 'index.html')
const prodPage = { indexFile }
const appUrl = pathToFileURL(indexFile).href
const trusted = (url: string | undefined): boolean => isAppUrl(url, prodPage)

function fakeServices(overrides: Partial<Record<string, unknown>> = {}): Services {
  return {
    system: {
      status: vi.fn(async () => ({
        appVersion: '1',
        mode: 'electron',
        dataDir: '/d',
        backend: null
      })),
      pickFolder: vi.fn(async () => null),
      pickImage: vi.fn(async () => null)
    },
    datasets: { ...stubService('datasets'), get: vi.fn(async (p: unknown) => ({ got: p })) },
    runs: stubService('runs'),
    retrieval: stubService('retrieval'),
    ...overrides
  } as unknown as Services
}

function invokeEvent(url: string | null): unknown {
  return { senderFrame: url === null ? null : { url } }
}

beforeEach(() => {
  fake.handlers.clear()
  fake.forks.length = 0
  fake.windows.length = 0
  fake.dialogCalls.length = 0
})

describe('window', () => {
  it('uses the secure webPreferences baseline', () => {
    const opts = windowOptions('/p/preload.cjs')
    expect(opts.webPreferences).toMatchObject({
      preload: '/p/preload.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false
    })
    expect(opts.show).toBe(false)
  })

  it('denies window.open and blocks navigation away from the app page', () => {
    const wc = new EventEmitter() as EventEmitter & {
      setWindowOpenHandler: (fn: unknown) => void
      openHandler?: () => unknown
    }
    wc.setWindowOpenHandler = (fn) => {
      wc.openHandler = fn as () => unknown
    }
    hardenWebContents(wc as never, prodPage)
    expect(wc.openHandler?.()).toEqual({ action: 'deny' })

    const navigate = (url: string, event = 'will-navigate'): boolean => {
      const e = { preventDefault: vi.fn() }
      wc.emit(event, e, url)
      return e.preventDefault.mock.calls.length > 0
    }
    expect(navigate('https://example.com/')).toBe(true)
    expect(navigate('file:///etc/passwd')).toBe(true)
    expect(navigate('https://example.com/', 'will-redirect')).toBe(true)
    expect(navigate(`${appUrl}#/runs`)).toBe(false)

    const webview = { preventDefault: vi.fn() }
    wc.emit('will-attach-webview', webview)
    expect(webview.preventDefault).toHaveBeenCalled()
  })

  it('creates the main window hardened and loads the app page', () => {
    const win = createMainWindow(prodPage, '/p/preload.cjs') as unknown as {
      loaded: string
      webContents: { openHandler: () => unknown }
    }
    expect(win.loaded).toBe(appUrl)
    expect(win.webContents.openHandler()).toEqual({ action: 'deny' })
  })
})

describe('ipc', () => {
  it('binds every contract channel', () => {
    const unbind = bindIpc(fakeServices(), trusted)
    expect([...fake.handlers.keys()].sort()).toEqual([...channels].sort())
    unbind()
    expect(fake.handlers.size).toBe(0)
  })

  it('answers calls from the app page and refuses other senders', async () => {
    const services = fakeServices()
    bindIpc(services, trusted)
    const status = fake.handlers.get('system.status')!
    expect(await status(invokeEvent(appUrl), undefined)).toMatchObject({
      result: { appVersion: '1' }
    })
    for (const url of ['https://evil.example/', 'file:///tmp/other.html', 'about:blank', null]) {
      expect(await status(invokeEvent(url), undefined)).toEqual(UNTRUSTED_SENDER)
    }
    expect(services.system.status).toHaveBeenCalledTimes(1)
  })

  it('trusts only the dev server origin in development', async () => {
    const devPage = { devUrl: 'http://localhost:5173', indexFile }
    handle(
      'system.status',
      async () => ({ result: 'ok' }),
      (u) => isAppUrl(u, devPage)
    )
    const h = fake.handlers.get('system.status')!
    expect(await h(invokeEvent('http://localhost:5173/#/datasets'), undefined)).toEqual({
      result: 'ok'
    })
    expect(await h(invokeEvent('http://localhost:5174/'), undefined)).toEqual(UNTRUSTED_SENDER)
    expect(await h(invokeEvent(appUrl), undefined)).toEqual(UNTRUSTED_SENDER)
  })

  it('validates payloads before the service is called', async () => {
    const services = fakeServices()
    bindIpc(services, trusted)
    const get = fake.handlers.get('datasets.get')!
    const bad = (await get(invokeEvent(appUrl), { id: 'x' })) as {
      error: { code: string; message: string; issues: { path: string }[] }
    }
    expect(bad.error.code).toBe('invalid_payload')
    expect(bad.error.message).toContain('id')
    expect(bad.error.issues[0].path).toBe('id')
    expect(services.datasets.get).not.toHaveBeenCalled()
    expect(await get(invokeEvent(appUrl), { id: 3 })).toEqual({ result: { got: { id: 3 } } })
  })

  it("passes an unavailable service's code and message through", async () => {
    bindIpc(fakeServices(), trusted)
    const list = fake.handlers.get('runs.list')!
    const reply = (await list(invokeEvent(appUrl), undefined)) as {
      error: { code: string; message: string }
    }
    expect(reply.error.code).toBe('unavailable')
    expect(reply.error.message).toMatch(/not stubbed in this test/)
  })
})

describe('media protocol', () => {
  it('registers hist-media as a privileged standard scheme without bypassing the CSP', () => {
    registerMediaScheme()
    const s = fake.privileged.at(-1) as { scheme: string; privileges: Record<string, boolean> }
    expect(s.scheme).toBe('hist-media')
    expect(s.privileges).toMatchObject({ standard: true, secure: true, supportFetchAPI: true })
    expect(s.privileges.bypassCSP).toBeFalsy()
  })

  it('maps URLs to media paths', () => {
    expect(mediaPathOf('hist-media://image/12')).toBe('image/12')
    expect(mediaPathOf('hist-media://thumb/7/')).toBe('thumb/7')
    expect(mediaPathOf('hist-media://file/3/Japanese_(katakana)/a%20b.png')).toBe(
      'file/3/Japanese_(katakana)/a%20b.png'
    )
    expect(mediaPathOf('hist-media://file/3/a%00b.png')).toBeNull()
    expect(mediaPathOf('https://image/12')).toBeNull()
    expect(mediaPathOf('not a url')).toBeNull()
  })

  it('delegates to the media source and passes status, type and bytes through', async () => {
    const media = vi.fn(async (path: string) =>
      path === 'image/5'
        ? { status: 200, contentType: 'image/png', body: new Uint8Array([137, 80, 78, 71]) }
        : { status: 404, contentType: 'text/plain', body: 'no such image' }
    )
    installMediaProtocol(media)
    const handler = fake.protocolHandlers.get('hist-media')!
    const ok = await handler(new Request('hist-media://image/5'))
    expect(ok.status).toBe(200)
    expect(ok.headers.get('content-type')).toBe('image/png')
    expect([...new Uint8Array(await ok.arrayBuffer())]).toEqual([137, 80, 78, 71])
    const missing = await handler(new Request('hist-media://image/6'))
    expect(missing.status).toBe(404)
    expect(media).toHaveBeenCalledWith('image/6')
  })

  it('answers 503 without a media source and 500 when it throws', async () => {
    expect((await createMediaHandler(null)(new Request('hist-media://image/1'))).status).toBe(503)
    const failing = createMediaHandler(async () => {
      throw new Error('disk gone')
    })
    const res = await failing(new Request('hist-media://image/1'))
    expect(res.status).toBe(500)
    expect(await res.text()).toBe('disk gone')
  })
})

describe('session', () => {
  function fakeSession(): {
    session: never
    headers: (url: string, h?: Record<string, string[]>) => Record<string, unknown>
    permission: () => boolean
    check: () => boolean
  } {
    let onHeaders: ((d: unknown, cb: (r: Record<string, unknown>) => void) => void) | null = null
    let request: ((wc: unknown, p: string, cb: (ok: boolean) => void) => void) | null = null
    let check: (() => boolean) | null = null
    const session = {
      webRequest: { onHeadersReceived: (fn: typeof onHeaders) => (onHeaders = fn) },
      setPermissionRequestHandler: (fn: typeof request) => (request = fn),
      setPermissionCheckHandler: (fn: typeof check) => (check = fn)
    }
    return {
      session: session as never,
      headers(url, h = { 'content-type': ['text/html'] }) {
        let out: Record<string, unknown> = {}
        onHeaders!({ url, responseHeaders: h }, (r) => (out = r))
        return out
      },
      permission() {
        let granted = true
        request!(null, 'media', (ok) => (granted = ok))
        return granted
      },
      check: () => check!()
    }
  }

  it('adds the CSP header to the app page only and denies permissions', () => {
    const s = fakeSession()
    secureSession(s.session, { devUrl: 'http://localhost:5173', indexFile })
    const app = s.headers('http://localhost:5173/', {
      'content-security-policy': ['default-src *']
    })
    expect(app.responseHeaders).toEqual({ 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] })
    expect(s.headers('https://example.com/')).toEqual({})
    expect(s.permission()).toBe(false)
    expect(s.check()).toBe(false)
  })

  it('uses a strict policy: no eval, no remote scripts, images from hist-media', () => {
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'")
    expect(CONTENT_SECURITY_POLICY).not.toContain('unsafe-eval')
    expect(CONTENT_SECURITY_POLICY).toMatch(/img-src [^;]*hist-media:/)
    expect(CONTENT_SECURITY_POLICY).toContain("object-src 'none'")
    expect(CONTENT_SECURITY_POLICY).toContain("frame-ancestors 'none'")
  })
})

describe('process launcher', () => {
  it('forks built workers as utility processes and relays messages and exit', () => {
    const launcher = createUtilityProcessLauncher()
    const child = launcher.fork('/app/out/main/trainer.js', ['--x'], { HIST_BACKEND: 'cpu' })
    const forked = fake.forks[0]
    expect(forked.modulePath).toBe('/app/out/main/trainer.js')
    expect(forked.args).toEqual(['--x'])
    expect((forked.options.env as Record<string, string>).HIST_BACKEND).toBe('cpu')
    const proc = forked.proc as EventEmitter & { posted: unknown[]; killed: boolean }
    const got: unknown[] = []
    let exitCode: number | null | undefined
    child.on('message', (m) => got.push(m))
    child.on('exit', (c) => (exitCode = c))
    child.send({ type: 'start' })
    expect(proc.posted).toEqual([{ type: 'start' }])
    proc.emit('message', { type: 'epochEnd' })
    expect(got).toEqual([{ type: 'epochEnd' }])
    expect(child.pid).toBe(4242)
    launcher.killAll()
    expect(proc.killed).toBe(true)
    expect(exitCode).toBe(0)
  })

  it('refuses TypeScript modules (utility processes run the built bundle)', () => {
    expect(() => createUtilityProcessLauncher().fork('/src/trainer/entry.ts', [], {})).toThrow(
      /built JavaScript/
    )
  })
})

describe('pickers', () => {
  it('returns the chosen path, or null when cancelled', async () => {
    const pickers = electronPickers()
    fake.dialogResult = { canceled: false, filePaths: ['/picked/folder'] }
    expect(await pickers.pickFolder()).toBe('/picked/folder')
    expect(fake.dialogCalls[0]).toMatchObject({ properties: ['openDirectory'] })
    fake.dialogResult = { canceled: true, filePaths: [] }
    expect(await pickers.pickImage()).toBeNull()
    expect(fake.dialogCalls[1]).toMatchObject({ properties: ['openFile'] })
  })
})
