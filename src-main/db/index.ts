import Database from 'better-sqlite3'
import { migrations, type Migration } from './migrations'

export type Db = Database.Database

/**
 * Opens the app's one SQLite connection: WAL, foreign keys on, a busy timeout so that the
 * trainer process and the main process can both write, and every pending migration applied.
 */
export function openDb(file: string, list: Migration[] = migrations): Db {
  const db = new Database(file)
  db.pragma('journal_mode = WAL')
  db.pragma('foreign_keys = ON')
  db.pragma('busy_timeout = 10000')
  db.pragma('synchronous = NORMAL')
  migrate(db, list)
  return db
}

/** Applies numbered migrations above `user_version`, each in its own transaction. */
export function migrate(db: Db, list: Migration[]): void {
  const sorted = [...list].sort((a, b) => a.version - b.version)
  for (let i = 0; i < sorted.length; i++) {
    if (sorted[i].version !== i + 1) {
      throw new Error(`migrations must be numbered 1..n without gaps; found ${sorted[i].version} at ${i + 1}`)
    }
  }
  const current = db.pragma('user_version', { simple: true }) as number
  for (const m of sorted) {
    if (m.version <= current) continue
    db.transaction(() => {
      db.exec(m.up)
      db.pragma(`user_version = ${m.version}`)
    }).immediate()
  }
}
