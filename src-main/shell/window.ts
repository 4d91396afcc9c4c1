/**
 * The main window and the rules every web contents follows: no new windows, no navigation
 * away from the app page, no <webview>, no permissions.
 */
import { BrowserWindow, type BrowserWindowConstructorOptions, type WebContents } from 'electron'
import { appPageUrl, isAppUrl, type AppPage } from './security'

/** The window's options; webPreferences are the security baseline (see the unit test). */
export function windowOptions(preloadPath: string): BrowserWindowConstructorOptions {
  return {
    width: 1360,
    height: 860,
    minWidth: 960,
    minHeight: 600,
    show: false,
    title: 'HIST Studio',
    backgroundColor: '#f7f7f8',
    autoHideMenuBar: true,
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      experimentalFeatures: false,
      navigateOnDragDrop: false,
      spellcheck: false
    }
  }
}

/**
 * Locks down one web contents: window.open is denied, navigation away from the app page is
 * prevented (in-app routing uses the history API or hashes, which does not navigate), and
 * <webview> attachment is refused.
 */
export function hardenWebContents(contents: WebContents, page: AppPage): void {
  contents.setWindowOpenHandler(() => ({ action: 'deny' }))
  const guard = (event: { preventDefault(): void }, url: string): void => {
    if (!isAppUrl(url, page)) {
      event.preventDefault()
      console.warn(`blocked navigation to ${url}`)
    }
  }
  contents.on('will-navigate', guard)
  contents.on('will-redirect', guard)
  contents.on('will-attach-webview', (event) => event.preventDefault())
}

/** Creates the main window, shows it when ready and loads the app page. */
export function createMainWindow(page: AppPage, preloadPath: string): BrowserWindow {
  const win = new BrowserWindow(windowOptions(preloadPath))
  hardenWebContents(win.webContents, page)
  win.once('ready-to-show', () => win.show())
  void win.loadURL(appPageUrl(page))
  return win
}
