/**
 * Sorting and filtering of the runs list in SQL. Column keys are whitelisted (the contract
 * validates them); hyperparameters are read from the config snapshot with json_extract and a
 * bound JSON path, values are always bound parameters. Statements are cached per SQL shape.
 */
import {
  RUN_LIST_COLUMNS,
  type RunListColumn,
  type RunsListQuery
} from '../../src-preload/contract/runs'
import type { Db } from '../db'
import { InvalidError } from '../../src-preload/contract/errors'
import type Database from 'better-sqlite3'

/** SQL expression of each fixed column (no user text in them). */
const COLUMN_SQL: Record<RunListColumn, string> = {
  id: 'id',
  name: 'name',
  created: 'created_at',
  status: 'status',
  dataset: 'dataset_name',
  loss: "json_extract(config, '$.loss')",
  backbone:
    "COALESCE(json_extract(config, '$.backbone.name'), json_extract(config, '$.backbone.kind'))",
  device: "COALESCE(json_extract(config, '$.device'), backend)",
  r1: `json_extract(test_metrics, '$.recall."1"')`,
  mapAtR: "json_extract(test_metrics, '$.mapAtR')",
  duration: '(julianday(finished_at) - julianday(started_at)) * 86400.0'
}

const isColumn = (k: string): k is RunListColumn =>
  (RUN_LIST_COLUMNS as readonly string[]).includes(k)

/** The SQL for a key plus the parameters it binds (a hyperparameter's JSON path). */
function keySql(key: string): { sql: string; params: string[] } {
  if (isColumn(key)) return { sql: COLUMN_SQL[key], params: [] }
  if (!/^[A-Za-z][A-Za-z0-9]*$/.test(key)) throw new InvalidError(`unknown runs column "${key}"`)
  return { sql: 'json_extract(config, ?)', params: [`$.${key}`] }
}

/** A filter value as SQLite should compare it: numbers and booleans as numbers. */
function bindValue(v: string): string | number {
  const t = v.trim()
  if (t === 'true') return 1
  if (t === 'false') return 0
  if (t !== '' && Number.isFinite(Number(t))) return Number(t)
  return v
}

export interface BuiltListQuery {
  sql: string
  params: (string | number)[]
}

/** Builds `SELECT * FROM runs WHERE … ORDER BY …`; missing values sort last either way. */
export function buildListQuery(q: RunsListQuery): BuiltListQuery {
  const where: string[] = []
  const params: (string | number)[] = []
  for (const f of q.filters) {
    const k = keySql(f.key)
    const value = bindValue(f.value)
    if (typeof value === 'string') {
      // Text compares case-insensitively ("status=Completed" finds completed runs).
      where.push(`${k.sql} = ? COLLATE NOCASE`)
      params.push(...k.params, value)
    } else {
      // Numbers compare to 1e-9 relative: lr=0.0003 matches the stored 3 * 1e-4.
      where.push(`ABS(${k.sql} - ?) <= ABS(?) * 1e-9`)
      params.push(...k.params, value, value)
    }
  }
  if (q.tag !== undefined) {
    where.push('EXISTS (SELECT 1 FROM json_each(runs.tags) WHERE json_each.value = ?)')
    params.push(q.tag)
  }
  let order = 'id DESC'
  if (q.sort !== undefined) {
    const k = keySql(q.sort)
    const dir = q.desc ? 'DESC' : 'ASC'
    order = `(${k.sql}) IS NULL, ${k.sql} ${dir}, id DESC`
    params.push(...k.params, ...k.params)
  }
  const whereSql = where.length ? ` WHERE ${where.join(' AND ')}` : ''
  return { sql: `SELECT * FROM runs${whereSql} ORDER BY ${order}`, params }
}

/** Prepared statements for list queries, one per distinct SQL text. */
export class ListStatements {
  private cache = new Map<string, Database.Statement>()
  constructor(private db: Db) {}

  all(q: RunsListQuery): unknown[] {
    const built = buildListQuery(q)
    let st = this.cache.get(built.sql)
    if (!st) {
      st = this.db.prepare(built.sql)
      if (this.cache.size > 200) this.cache.clear()
      this.cache.set(built.sql, st)
    }
    return st.all(...built.params)
  }
}
