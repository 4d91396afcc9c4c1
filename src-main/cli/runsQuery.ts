/** `hist runs` options → the `runs.list` payload (validated by the contract in dispatch). */
import type { RunsListQueryInput } from '../../src-preload/contract/runs'
import { RUN_LIST_COLUMNS } from '../../src-preload/contract/runs'
import { UsageError } from './common'

export interface RunsListOptions {
  sort?: string
  desc?: boolean
  filter?: string[]
  tag?: string
}

/** Commander collector for a repeatable option. */
export const collect = (v: string, prev: string[] = []): string[] => [...prev, v]

export const SORT_HELP = `column: ${RUN_LIST_COLUMNS.join(', ')} or a hyperparameter (lr, batchSize, …)`

/** Builds the list query; `--filter` must be key=value. */
export function runsListInput(o: RunsListOptions): RunsListQueryInput {
  const filters = (o.filter ?? []).map((f) => {
    const eq = f.indexOf('=')
    if (eq <= 0) throw new UsageError(`--filter "${f}" must be key=value, e.g. --filter loss=hist`)
    return { key: f.slice(0, eq).trim(), value: f.slice(eq + 1).trim() }
  })
  return {
    ...(o.sort !== undefined ? { sort: o.sort } : {}),
    desc: !!o.desc,
    filters,
    ...(o.tag !== undefined ? { tag: o.tag } : {})
  }
}
