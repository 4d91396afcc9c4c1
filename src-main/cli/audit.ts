/**
 * `hist audit --run <id> [--k N] [--threshold X] [--limit N] [--json]`: label-mistake candidates
 * (images whose nearest neighbours mostly carry another label) and near-duplicate pairs of the
 * run's dataset, flagging pairs across train/test. Progress goes to stderr; the lists to stdout.
 */
import type { Command } from 'commander'
import type { AuditImage, AuditReport, AuditReportRequest } from '../../src-preload/contract/audit'
import { closeContext } from '../app/context'
import { invoke } from '../dispatch'
import { createAuditService } from '../services/audit'
import { openCliContext, printResult, UsageError } from './common'

/** Options of `hist audit`, as commander hands them over. */
export interface AuditOptions {
  run?: string
  k?: string
  threshold?: string
  limit?: string
  minScore?: string
  json?: boolean
}

/** A number option, or a usage error naming it ("--k must be a number, got "x""). */
function num(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined
  const n = Number(v)
  if (v.trim() === '' || !Number.isFinite(n))
    throw new UsageError(`--${name} must be a number, got "${v}"`)
  return n
}

/** The `audit.report` payload (the contract checks the ranges). */
export function auditInput(o: AuditOptions): AuditReportRequest {
  if (o.run === undefined) throw new UsageError('--run <id> is required')
  const runId = num('run', o.run)!
  const opt = (key: keyof AuditReportRequest, name: string, v: string | undefined) =>
    v === undefined ? {} : { [key]: num(name, v) }
  return {
    runId,
    ...opt('k', 'k', o.k),
    ...opt('threshold', 'threshold', o.threshold),
    ...opt('limit', 'limit', o.limit),
    ...opt('minScore', 'min-score', o.minScore)
  }
}

const pct = (x: number): string => `${Math.round(x * 100)}%`
const ref = (i: AuditImage): string => `${i.relPath} (#${i.id}, ${i.split})`

/** The human-readable form of a report. */
export function formatAudit(r: AuditReport): string {
  const lines = [
    `Audit of run ${r.runId}'s dataset: ${r.images} images, ${r.dim}-d embeddings (k = ${r.k}, duplicate threshold ${r.threshold})`,
    '',
    `Label-mistake candidates: ${r.mislabelTotal} with ${pct(r.minScore)} or more of their neighbours in another class` +
      (r.mislabelTotal > r.mislabels.length ? ` (showing ${r.mislabels.length})` : '')
  ]
  if (r.caution) lines.push(`Note: ${r.caution}`)
  for (const c of r.mislabels)
    lines.push(
      `  ${pct(c.score).padStart(4)}  ${ref(c.image)} filed as "${c.image.className}", neighbours say "${c.dominantClassName}" (${pct(c.dominantShare)})`
    )
  lines.push(
    '',
    `Near duplicates: ${r.duplicateTotal} pairs with similarity ≥ ${r.threshold}, ${r.leakTotal} across train/test` +
      (r.duplicateTotal > r.duplicates.length ? ` (showing ${r.duplicates.length})` : '')
  )
  for (const p of r.duplicates)
    lines.push(
      `  ${p.similarity.toFixed(4)}  ${p.leak ? 'LEAK ' : '     '} ${ref(p.a)}  ~  ${ref(p.b)}${p.sameClass ? '' : '  (different classes)'}`
    )
  if (r.duplicatesTruncated)
    lines.push(`  (more pairs than kept: raise --threshold to see them all)`)
  return lines.join('\n')
}

export function registerAudit(program: Command): void {
  program
    .command('audit')
    .description(
      "find likely label mistakes and near-duplicate images (train/test leaks) in a run's dataset, from the run's embeddings"
    )
    .requiredOption('--run <id>', 'run whose model embeds the dataset')
    .option('--k <n>', 'neighbours per image for the label check (default 10)')
    .option(
      '--threshold <x>',
      'cosine similarity from which two images are near duplicates (default 0.95)'
    )
    .option('--min-score <x>', 'share of disagreeing neighbours for a candidate (default 0.5)')
    .option('--limit <n>', 'entries printed per list (default 50)')
    .option('--json', 'print JSON')
    .action(async (o: AuditOptions, cmd: Command) => {
      const input = auditInput(o)
      const ctx = openCliContext(cmd)
      let phase = ''
      const off = ctx.events.on((e) => {
        if (e.type !== 'job' || e.job.kind !== 'audit' || e.job.status !== 'running') return
        if (e.job.message !== phase) process.stderr.write(`${e.job.message}…\n`)
        phase = e.job.message
      })
      try {
        const report = await invoke('audit', createAuditService(ctx), 'report', input)
        printResult(o.json, report, () => formatAudit(report))
      } finally {
        off()
        closeContext(ctx)
      }
    })
}
