/**
 * The desktop app through Playwright's Electron driver. Skipped (with the reason) where no
 * Electron binary is installed (ELECTRON_SKIP_BINARY_DOWNLOAD=1) or there is no display.
 * Before running: `npm run build` and, on a machine with Electron,
 * `npx electron-rebuild -f -w better-sqlite3` (the native module must match Electron's ABI).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { _electron as electron, expect, test } from '@playwright/test'
import { repoRoot, screenshot } from './fixtures'

/** The Electron binary, or why it cannot be used. */
function electronBinary(): { path: string } | { skip: string } {
  let path: unknown
  try {
    path = createRequire(import.meta.url)('electron')
  } catch (err) {
    return {
      skip: `Electron is not installed correctly (${(err as Error).message.split('\n')[0]})`
    }
  }
  if (typeof path !== 'string' || !existsSync(path)) {
    return {
      skip: `no Electron binary at ${String(path)} (installed with ELECTRON_SKIP_BINARY_DOWNLOAD=1)`
    }
  }
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
    return { skip: 'no display (run under xvfb-run to test the desktop app)' }
  }
  return { path }
}

const binary = electronBinary()
const mainScript = join(repoRoot, 'out', 'main', 'index.js')

test('the desktop app opens with a secure window and shows every section', async () => {
  if ('skip' in binary) console.log(`electron e2e skipped: ${binary.skip}`)
  test.skip('skip' in binary, 'skip' in binary ? binary.skip : '')
  test.skip(!existsSync(mainScript), 'out/main/index.js is missing: run `npm run build` first')
  const dataDir = mkdtempSync(join(tmpdir(), 'hist-electron-'))
  // Chromium refuses to run as root with its OS sandbox; this flag is for the test harness only.
  const rootArgs = process.getuid?.() === 0 ? ['--no-sandbox'] : []
  const app = await electron.launch({
    executablePath: (binary as { path: string }).path,
    args: [...rootArgs, mainScript, `--data-dir=${dataDir}`],
    // --data-dir must win; drop a HIST_DATA_DIR inherited from the caller for clarity.
    env: Object.fromEntries(
      Object.entries(process.env).filter(([k, v]) => k !== 'HIST_DATA_DIR' && v !== undefined)
    ) as Record<string, string>
  })
  try {
    const page = await app.firstWindow()
    await expect(page).toHaveTitle(/HIST Studio/)
    // The page sees only the typed API: no require, no process, no ipcRenderer.
    const globals = await page.evaluate(() => ({
      api: typeof (globalThis as unknown as { api?: unknown }).api,
      require: typeof (globalThis as unknown as { require?: unknown }).require,
      process: typeof (globalThis as unknown as { process?: unknown }).process,
      ipc: 'ipcRenderer' in ((globalThis as unknown as { api?: object }).api ?? {})
    }))
    expect(globals).toEqual({
      api: 'object',
      require: 'undefined',
      process: 'undefined',
      ipc: false
    })
    const status = await page
      .evaluate(() =>
        (
          globalThis as unknown as {
            api: { system: { status(): Promise<{ result: { mode: string; dataDir: string } }> } }
          }
        ).api.system.status()
      )
      .then((reply) => reply.result)
    expect(status.mode).toBe('electron')
    expect(status.dataDir).toBe(dataDir)
    for (const name of ['Datasets', 'Train', 'Runs', 'Retrieval', 'Compare']) {
      await page.getByRole('link', { name, exact: true }).click()
      await expect(page.getByRole('main')).toBeVisible()
    }
    // window.open is refused by the shell.
    const windows = app.windows().length
    await page.evaluate(() =>
      (globalThis as unknown as { open(u: string): unknown }).open('https://example.com/')
    )
    await page.waitForTimeout(500)
    expect(app.windows().length).toBe(windows)
    await screenshot(page, 'electron-shell')
  } finally {
    await app.close()
    rmSync(dataDir, { recursive: true, force: true })
  }
})
