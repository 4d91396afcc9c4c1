import { mkdirSync } from 'node:fs'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'

export const APP_NAME = 'hist-studio'

/**
 * The OS-conventional per-user app-data folder (what Electron's `userData` would be):
 * %APPDATA% on Windows, ~/Library/Application Support on macOS, $XDG_CONFIG_HOME or ~/.config on Linux.
 */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, platform = process.platform): string {
  if (platform === 'win32') return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), APP_NAME)
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', APP_NAME)
  return join(env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), APP_NAME)
}

/**
 * Picks the data folder: an explicit `--data-dir` wins, then HIST_DATA_DIR, then the fallback
 * (Electron passes its userData path; CLI and web mode use the OS default).
 */
export function resolveDataDir(opts: { flag?: string; env?: NodeJS.ProcessEnv; fallback?: string } = {}): string {
  const env = opts.env ?? process.env
  const chosen = opts.flag ?? env.HIST_DATA_DIR ?? opts.fallback ?? defaultDataDir(env)
  return resolve(chosen)
}

/** The fixed layout inside the data folder. Everything the app writes lives below `root`. */
export interface DataPaths {
  root: string
  db: string
  cache: string
  features: string
  models: string
  thumbnails: string
  runs: string
  datasets: string
}

/** Creates (if needed) and returns the data folder's sub-folders. */
export function dataPaths(root: string): DataPaths {
  const p: DataPaths = {
    root,
    db: join(root, 'hist.sqlite'),
    cache: join(root, 'cache'),
    features: join(root, 'cache', 'features'),
    models: join(root, 'cache', 'models'),
    thumbnails: join(root, 'cache', 'thumbnails'),
    runs: join(root, 'runs'),
    datasets: join(root, 'datasets')
  }
  for (const dir of [p.root, p.cache, p.features, p.models, p.thumbnails, p.runs, p.datasets]) {
    mkdirSync(dir, { recursive: true })
  }
  return p
}
