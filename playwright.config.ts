import { defineConfig } from '@playwright/test'

/** Debian's Chromium (Playwright's own browser download cannot be fetched here). */
const chromiumPath = process.env.HIST_CHROMIUM ?? '/usr/bin/chromium'

/**
 * Two projects: `web` drives web mode (`hist serve`) in Debian's Chromium; `electron` launches
 * the built desktop app through Playwright's `_electron` and skips itself when no Electron
 * binary is installed (ELECTRON_SKIP_BINARY_DOWNLOAD=1).
 */
export default defineConfig({
  testDir: 'e2e',
  outputDir: 'test-results',
  timeout: 90_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  // Two cores: one browser and one server at a time keeps timings stable.
  workers: 1,
  forbidOnly: !!process.env.CI,
  retries: 0,
  // .ci/run sets PLAYWRIGHT_JSON_OUTPUT_NAME to read the counts for its summary line.
  reporter: process.env.PLAYWRIGHT_JSON_OUTPUT_NAME ? [['list'], ['json']] : [['list']],
  use: {
    screenshot: 'only-on-failure',
    trace: 'off',
    actionTimeout: 15_000,
    navigationTimeout: 30_000
  },
  projects: [
    {
      name: 'web',
      testIgnore: /electron\.spec\.ts$/,
      use: {
        browserName: 'chromium',
        viewport: { width: 1360, height: 860 },
        launchOptions: {
          executablePath: chromiumPath,
          args: [
            '--no-sandbox',
            '--disable-gpu',
            '--disable-background-networking',
            '--disable-component-update',
            '--disable-sync',
            '--disable-quic',
            '--no-first-run'
          ]
        }
      }
    },
    {
      name: 'electron',
      testMatch: /electron\.spec\.ts$/
    }
  ]
})
