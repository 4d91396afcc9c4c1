/**
 * The Electron main process: lifecycle only. Every rule (window options, navigation guard,
 * IPC sender checks, CSP, media protocol, pickers, worker processes) lives in src-main/shell.
 */
import { app, BrowserWindow, session } from 'electron'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { setEntryPath, setProcessLauncher } from './common/processLauncher'
import { resolveDataDir } from './common/dataDir'
import { setProjectionWorkerPath } from './retrieval/projectionRunner'
import { closeContext, createContext, type AppContext } from './app/context'
import { createServices } from './services/index'
import { startBackendProbe } from './services/system'
import { dataDirArg } from './shell/args'
import { electronPickers } from './shell/dialogs'
import { forwardEvents } from './shell/events'
import { bindIpc } from './shell/ipc'
import { createUtilityProcessLauncher } from './shell/processLauncher'
import { installMediaProtocol, registerMediaScheme } from './shell/protocol'
import { isAppUrl, type AppPage } from './shell/security'
import { secureSession } from './shell/session'
import { createMainWindow } from './shell/window'
import { createMediaSource } from './server/mediaSource'

const here = dirname(fileURLToPath(import.meta.url))
const page: AppPage = {
  devUrl: !app.isPackaged ? process.env.ELECTRON_RENDERER_URL : undefined,
  indexFile: join(here, '..', 'renderer', 'index.html')
}
const preloadPath = join(here, '..', 'preload', 'index.cjs')
const isTrusted = (url: string | undefined): boolean => isAppUrl(url, page)

// Must happen before `ready`.
registerMediaScheme()

const launcher = createUtilityProcessLauncher()
setProcessLauncher(launcher)
setEntryPath('trainer', join(here, 'trainer.js'))
setProjectionWorkerPath(join(here, 'projectionWorker.js'))

let ctx: AppContext | null = null
let disposeServices: (() => Promise<void>) | null = null
const cleanups: (() => void)[] = []

app.on('web-contents-created', (_event, contents) => {
  // Every web contents (not only the main window) refuses window.open and <webview>.
  contents.setWindowOpenHandler(() => ({ action: 'deny' }))
  contents.on('will-attach-webview', (e) => e.preventDefault())
})

app.whenReady().then(() => {
  const dataDir = resolveDataDir({
    flag: dataDirArg(process.argv),
    fallback: app.getPath('userData')
  })
  ctx = createContext(dataDir, 'electron')
  const services = createServices(ctx, { pickers: electronPickers() })
  disposeServices = () => services.dispose()
  secureSession(session.defaultSession, page)
  installMediaProtocol(createMediaSource(ctx))
  cleanups.push(bindIpc(services, isTrusted), forwardEvents(ctx.events, isTrusted))
  void startBackendProbe(ctx)
  createMainWindow(page, preloadPath)
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createMainWindow(page, preloadPath)
  })
})

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit()
})

let quitting = false
app.on('will-quit', (event) => {
  if (quitting) return
  // Stop the trainer (it checkpoints at its next batch boundary) before closing the database.
  event.preventDefault()
  quitting = true
  const dispose = disposeServices ? disposeServices() : Promise.resolve()
  void dispose
    .catch((err: unknown) => console.error('shutdown failed:', err))
    .finally(() => {
      launcher.killAll()
      for (const c of cleanups.splice(0)) c()
      if (ctx) closeContext(ctx)
      ctx = null
      app.quit()
    })
})
