/**
 * `hist train … --seeds 1,2,3`: queues the same config once per seed (a seed group), waits for
 * all of them and prints each run and the group's test R@1 and MAP@R as mean ± sd, so that a
 * difference between configs can be read against the spread a seed alone makes.
 */
import type { RunSummary, TrainConfigInput } from '../../src-preload/contract/runs'
import type { RunsServiceImpl } from '../services/runs'
import { invoke } from '../dispatch'
import { UsageError } from './common'

/** Parses "1,2,3" into distinct integer seeds. */
export function parseSeedList(text: string): number[] {
  const parts = text.split(',').map((s) => s.trim())
  const seeds = parts.map((p) => {
    const n = Number(p)
    if (p === '' || !Number.isInteger(n))
      throw new UsageError(`--seeds must be a comma-separated list of integers, got "${text}"`)
    return n
  })
  if (new Set(seeds).size !== seeds.length) throw new UsageError('--seeds lists a seed twice')
  return seeds
}

/** Mean ± sample sd in percent, e.g. "60.4 ± 0.7". */
export function meanSd(xs: number[]): string {
  const m = xs.reduce((s, x) => s + x, 0) / xs.length
  const sd =
    xs.length > 1 ? Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1)) : 0
  return `${(m * 100).toFixed(1)} ± ${(sd * 100).toFixed(1)}`
}

/** Queues one run per seed and waits for every one; returns the finished runs. */
export async function trainSeeds(
  service: RunsServiceImpl,
  input: TrainConfigInput,
  seeds: number[],
  log: (s: string) => void
): Promise<RunSummary[]> {
  const runs: RunSummary[] = []
  for (const seed of seeds) {
    const name = input.name ? `${input.name} · seed ${seed}` : undefined
    const run = await invoke('runs', service, 'start', { ...input, seed, name })
    log(`Run #${run.id} queued: ${run.name} (seed ${seed}).`)
    runs.push(run)
  }
  const done: RunSummary[] = []
  for (const r of runs) {
    const status = await service.waitFor(r.id)
    const final = service.repo.get(r.id)
    log(
      `Run #${r.id} (seed ${final.config.seed}) ${status}: test R@1 ${final.testMetrics ? (final.testMetrics.recall['1'] * 100).toFixed(1) : '—'}`
    )
    done.push(final)
  }
  const tested = done.filter((r) => r.testMetrics)
  if (tested.length > 1)
    log(
      `Seed group of ${tested.length} runs: test R@1 ${meanSd(tested.map((r) => r.testMetrics!.recall['1']))}, MAP@R ${meanSd(tested.map((r) => r.testMetrics!.mapAtR))} (mean ± sd).`
    )
  return done
}
