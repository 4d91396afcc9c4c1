import { readFileSync } from 'node:fs'
import { dataPaths, type DataPaths } from '../common/dataDir'
import { openDb, type Db } from '../db'
import { EventBus } from './events'
import { JobRunner } from './jobs'

/** Everything a service needs: the data folder, the one DB connection, events and jobs. */
export interface AppContext {
  paths: DataPaths
  db: Db
  events: EventBus
  jobs: JobRunner
  appVersion: string
  mode: 'electron' | 'web' | 'cli'
}

function readVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'))
    return String(pkg.version)
  } catch {
    return '0.0.0'
  }
}

/** Opens (creating if needed) the data folder and its database. */
export function createContext(dataDir: string, mode: AppContext['mode']): AppContext {
  const paths = dataPaths(dataDir)
  const db = openDb(paths.db)
  const events = new EventBus()
  return { paths, db, events, jobs: new JobRunner(events), appVersion: readVersion(), mode }
}

/** Closes the database; call on shutdown and at the end of tests. */
export function closeContext(ctx: AppContext): void {
  ctx.db.close()
}
