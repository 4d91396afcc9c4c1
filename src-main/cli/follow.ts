/**
 * Following a run from the command line (`hist train`, `hist resume`): a progress bar on
 * stderr, the run's log and epochs as they happen, Ctrl-C to stop, the final run on stdout and
 * the exit code; and saying clearly when runs an earlier process left behind resume first.
 */
import cliProgress from 'cli-progress'
import type { Metrics } from '../../src-preload/contract/common'
import type { RunProgress } from '../../src-preload/contract/events'
import type { RunSummary } from '../../src-preload/contract/runs'
import type { AppContext } from '../app/context'
import { pidAlive } from '../runs/queue'
import type { RunsRepo } from '../runs/repo'
import type { RunsServiceImpl } from '../services/runs'
import { EXIT, printResult } from './common'

/** Formats Recall@K and friends on one line. */
export function formatMetrics(m: Metrics | null): string {
  if (!m) return '—'
  const r = Object.entries(m.recall)
    .sort((a, b) => Number(a[0]) - Number(b[0]))
    .map(([k, v]) => `R@${k} ${(v * 100).toFixed(1)}`)
  const rest = [`R-prec ${(m.rPrecision * 100).toFixed(1)}`, `MAP@R ${(m.mapAtR * 100).toFixed(1)}`]
  if (m.nmi !== undefined) rest.push(`NMI ${(m.nmi * 100).toFixed(1)}`)
  return [...r, ...rest].join('  ')
}

export function describeRun(r: RunSummary): string {
  const lines = [
    `Run #${r.id} ${r.name}: ${r.status}${r.message ? ` (${r.message})` : ''}`,
    `  before training: ${formatMetrics(r.baselineMetrics)}`,
    `  after training:  ${formatMetrics(r.testMetrics)}`
  ]
  if (r.bestEpoch !== null)
    lines.push(
      `  selected epoch ${r.bestEpoch} (${r.config.modelSelection === 'test' ? 'on TEST' : 'on validation'}): ${formatMetrics(r.bestMetrics)}`
    )
  const b = r.baselineMetrics?.recall['1']
  const t = r.testMetrics?.recall['1']
  if (b !== undefined && t !== undefined)
    lines.push(
      `  R@1 ${(b * 100).toFixed(1)} → ${(t * 100).toFixed(1)} (${t >= b ? '+' : ''}${((t - b) * 100).toFixed(1)} points)`
    )
  return lines.join('\n')
}

const PHASE_LABEL: Record<RunProgress['phase'], string> = {
  features: 'features',
  baseline: 'baseline',
  train: 'training',
  eval: 'evaluating',
  refit: 'refitting on all classes',
  test: 'testing'
}

/** Follows a run until it ends or pauses; returns the exit code (see EXIT). */
export async function followRun(
  ctx: AppContext,
  service: RunsServiceImpl,
  runId: number,
  opts: { json?: boolean }
): Promise<number> {
  const log = (s: string): void => void process.stderr.write(`${s}\n`)
  let bar: cliProgress.SingleBar | null = null
  if (!opts.json) {
    bar = new cliProgress.SingleBar(
      {
        format:
          '{phase} |{bar}| {percentage}% | epoch {epoch}/{epochs} batch {batch}/{batches} | {ips} img/s | ETA {etaText}',
        stream: process.stderr,
        hideCursor: true,
        clearOnComplete: true,
        etaBuffer: 1
      },
      cliProgress.Presets.shades_classic
    )
  }
  let barStarted = false
  const off = ctx.events.on((ev) => {
    if (ev.type === 'run.progress' && ev.progress.runId === runId && bar) {
      const p = ev.progress
      const total = Math.max(1, p.batches)
      const payload = {
        phase: PHASE_LABEL[p.phase].padEnd(10),
        epoch: p.epoch,
        epochs: p.epochs,
        batch: p.batch,
        batches: p.batches,
        ips: p.imagesPerSec === null ? '—' : p.imagesPerSec.toFixed(0),
        etaText: p.etaSec === null ? '—' : `${Math.round(p.etaSec)}s`
      }
      if (!barStarted) {
        bar.start(total, p.batch, payload)
        barStarted = true
      }
      bar.setTotal(total)
      bar.update(p.batch, payload)
    } else if (ev.type === 'run.log' && ev.runId === runId && !opts.json) {
      if (barStarted) bar!.stop()
      barStarted = false
      log(`[${ev.entry.level}] ${ev.entry.message}`)
    } else if (ev.type === 'run.epoch' && ev.runId === runId && !opts.json) {
      if (barStarted) bar!.stop()
      barStarted = false
      const e = ev.record
      log(
        `epoch ${e.epoch}: ${formatMetrics(e.metrics)}  (${e.seconds.toFixed(1)} s, ${e.imagesPerSec.toFixed(0)} img/s)`
      )
    }
  })
  let interrupts = 0
  const onSigint = (): void => {
    interrupts++
    if (interrupts === 1) {
      log(
        '\nStopping the run (Ctrl-C again to quit at once; the run then resumes at the next start)…'
      )
      void service.stop({ id: runId }).catch(() => undefined)
    } else process.exit(EXIT.cancelled)
  }
  process.on('SIGINT', onSigint)
  const status = await service.waitFor(runId)
  process.off('SIGINT', onSigint)
  off()
  if (barStarted) bar?.stop()
  const final = service.repo.get(runId)
  printResult(opts.json, final, () => describeRun(final))
  return status === 'completed' ? EXIT.ok : status === 'cancelled' ? EXIT.cancelled : EXIT.failed
}

/**
 * Why a run is marked running or queued although no live process owns it (its owner was
 * killed or crashed), or null when it is not orphaned.
 */
export function orphanNote(repo: RunsRepo, r: RunSummary): string | null {
  if (r.status !== 'running' && r.status !== 'queued') return null
  const owner = repo.resumeState(r.id).ownerPid
  if (owner !== null && pidAlive(owner)) return null
  if (r.status === 'queued' && owner === null) return null
  return `interrupted: the process that ran it${owner !== null ? ` (pid ${owner})` : ''} is gone; it resumes from its last checkpoint at the next \`hist train\`, \`hist serve\` or app start`
}

/**
 * Tells the user which interrupted runs this process adopted (they train before new runs) and
 * reports their epochs and end; returns the unsubscribe function.
 */
export function announceAdopted(
  ctx: AppContext,
  service: RunsServiceImpl,
  adopted: number[],
  log: (s: string) => void
): () => void {
  for (const id of adopted) {
    const r = service.repo.get(id)
    const st = service.repo.resumeState(id)
    const from = st.checkpoint ? `its checkpoint after epoch ${st.epochsDone}` : 'the start'
    log(
      `Resuming interrupted run #${id} (${r.name}) first, from ${from}: the process that ran it ended without stopping it. New runs wait until it ends; \`hist runs\` shows the queue.`
    )
  }
  if (!adopted.length) return () => undefined
  return ctx.events.on((ev) => {
    if (ev.type === 'run.epoch' && adopted.includes(ev.runId))
      log(`[run #${ev.runId}] epoch ${ev.record.epoch}: ${formatMetrics(ev.record.metrics)}`)
    else if (ev.type === 'run.status' && adopted.includes(ev.runId) && ev.status !== 'running')
      log(`[run #${ev.runId}] ${ev.status}${ev.message ? ` (${ev.message})` : ''}`)
  })
}
