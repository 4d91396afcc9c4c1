/**
 * Shared Playwright fixtures. Web mode: each test gets its own `hist serve` (started with
 * `tsx src-main/cli.ts serve --port 0 --json`) on a fresh temporary data folder, and a page
 * already opened at its URL. Use them in every spec:
 *
 *   import { test, expect } from './fixtures'
 *   test('…', async ({ appPage, server }) => { … })
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { test as base, expect, type Page } from '@playwright/test'

/** The repository root (this file is e2e/fixtures.ts). */
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..')

/** Where specs save screenshots (git-ignored). */
export const screenshotDir = join(repoRoot, 'e2e', 'screenshots')

/** A running `hist serve`. */
export interface ServeInfo {
  /** URL with the token: open it to get the session cookie. */
  url: string
  token: string
  port: number
  /** http://127.0.0.1:<port> */
  origin: string
  /** The temporary data folder of this server. */
  dataDir: string
  /** Everything the server wrote to stderr so far (for failure messages). */
  stderr(): string
}

/** Options of the web fixture. */
export interface ServeOptions {
  /** Extra environment for the server, e.g. { HIST_BACKEND: 'cpu' }. */
  serveEnv: Record<string, string>
}

/** Starts `hist serve --port 0 --json` on a fresh data folder; resolves with its address. */
export async function startServe(
  env: Record<string, string> = {}
): Promise<{ info: ServeInfo; stop: () => Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'hist-e2e-'))
  const tsx = join(repoRoot, 'node_modules', '.bin', 'tsx')
  const child: ChildProcess = spawn(tsx, ['src-main/cli.ts', 'serve', '--port', '0', '--json'], {
    cwd: repoRoot,
    env: { ...process.env, HIST_DATA_DIR: dataDir, ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stderr = ''
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const line = await new Promise<string>((resolve, reject) => {
    let out = ''
    const timer = setTimeout(
      () => reject(new Error(`hist serve did not start in 60 s:\n${stderr}`)),
      60_000
    )
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString()
      const nl = out.indexOf('\n')
      if (nl >= 0) {
        clearTimeout(timer)
        resolve(out.slice(0, nl))
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`hist serve exited with ${code}:\n${stderr}`))
    })
  })
  const parsed = JSON.parse(line) as Omit<ServeInfo, 'stderr'>
  const info: ServeInfo = { ...parsed, dataDir, stderr: () => stderr }
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(killer)
    }
    rmSync(dataDir, { recursive: true, force: true })
  }
  return { info, stop }
}

/** Saves a full-page screenshot as e2e/screenshots/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(screenshotDir, { recursive: true })
  const path = join(screenshotDir, `${name}.png`)
  await page.screenshot({ path, fullPage: true })
  return path
}

/** `test` with `server` (a fresh `hist serve`) and `appPage` (a page opened at its URL). */
export const test = base.extend<ServeOptions & { server: ServeInfo; appPage: Page }>({
  serveEnv: [{}, { option: true }],
  server: async ({ serveEnv }, use, testInfo) => {
    const { info, stop } = await startServe(serveEnv)
    try {
      await use(info)
    } finally {
      if (testInfo.status !== testInfo.expectedStatus && info.stderr()) {
        await testInfo.attach('hist-serve-stderr', {
          body: info.stderr(),
          contentType: 'text/plain'
        })
      }
      await stop()
    }
  },
  appPage: async ({ page, server }, use) => {
    const errors: string[] = []
    page.on('pageerror', (err) => errors.push(err.message))
    page.on('console', (msg) => {
      if (msg.type() === 'error') errors.push(msg.text())
    })
    await page.goto(server.url)
    await use(page)
    // Surface CSP violations and uncaught errors: they are bugs even when the UI looked fine.
    const csp = errors.filter((e) => /violates the following Content Security Policy/i.test(e))
    expect(csp, 'CSP violations').toEqual([])
  }
})

export { expect }
