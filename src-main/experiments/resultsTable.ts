/**
 * The results table of one dataset: the best completed run of each loss (HIST variants apart),
 * with Recall@K, R-precision, MAP@R and NMI, and its export as Markdown, CSV and LaTeX so that
 * it pastes straight into a paper. Values are percentages with one decimal (CSV: two), the best
 * value of each column in bold (Markdown, LaTeX).
 */
import type { Metrics } from '../../src-preload/contract/common'
import type { ResultsRow, ResultsTable } from '../../src-preload/contract/experiments'
import type { RunSummary } from '../../src-preload/contract/runs'
import { RECALL_KS_SOP, RECALL_KS_TABLE } from '../../src-preload/contract/common'

const LOSS_LABEL: Record<string, string> = {
  hist: 'HIST',
  'proxy-anchor': 'Proxy-Anchor',
  'normalized-softmax': 'Normalized Softmax',
  'multi-similarity': 'Multi-Similarity',
  triplet: 'Triplet (semi-hard)'
}

/** The method a run stands for: its loss, with the HIST ablation variant if any. */
export function methodOf(r: Pick<RunSummary, 'config'>): string {
  const c = r.config
  const base = LOSS_LABEL[c.loss] ?? c.loss
  if (c.loss !== 'hist') return base
  const parts: string[] = []
  if (c.histDs === false) parts.push('CE only')
  else if (c.ls === 0) parts.push('L_ds only')
  if (c.histGraph === 'graph') parts.push('plain graph')
  return parts.length ? `${base} (${parts.join(', ')})` : base
}

/** The Recall@K columns every row has, preferring the paper's sets (1-2-4-8, SOP 1-10-100-1000). */
export function tableKs(metrics: Metrics[]): number[] {
  if (!metrics.length) return [...RECALL_KS_TABLE]
  const common = Object.keys(metrics[0].recall)
    .map(Number)
    .filter((k) => metrics.every((m) => m.recall[String(k)] !== undefined))
  for (const set of [RECALL_KS_TABLE, RECALL_KS_SOP]) {
    const have = set.filter((k) => common.includes(k))
    if (have.length === set.length) return have
  }
  return common.sort((a, b) => a - b).slice(0, 6)
}

/** The best completed run (by test R@1) of each method among the given runs of one dataset. */
export function bestRuns(runs: RunSummary[]): ResultsRow[] {
  const best = new Map<string, RunSummary>()
  for (const r of runs) {
    if (r.status !== 'completed' || !r.testMetrics) continue
    const m = methodOf(r)
    const cur = best.get(m)
    if (!cur || r.testMetrics.recall['1'] > cur.testMetrics!.recall['1']) best.set(m, r)
  }
  return [...best.entries()]
    .map(([method, r]) => ({
      method,
      loss: r.config.loss,
      runId: r.id,
      runName: r.name,
      backbone: r.config.backbone.kind,
      embeddingSize: r.config.embeddingSize,
      frozen: r.config.frozen,
      metrics: r.testMetrics!
    }))
    .sort((a, b) => b.metrics.recall['1'] - a.metrics.recall['1'] || a.runId - b.runId)
}

interface Column {
  header: string
  latex: string
  value(m: Metrics): number | null
}

function columns(ks: number[]): Column[] {
  return [
    ...ks.map((k) => ({
      header: `R@${k}`,
      latex: `R@${k}`,
      value: (m: Metrics) => m.recall[String(k)] ?? null
    })),
    { header: 'R-Prec', latex: 'R-Prec', value: (m: Metrics) => m.rPrecision },
    { header: 'MAP@R', latex: 'MAP@R', value: (m: Metrics) => m.mapAtR },
    { header: 'NMI', latex: 'NMI', value: (m: Metrics) => m.nmi ?? null }
  ]
}

const pct = (v: number | null, digits = 1): string => (v === null ? '' : (v * 100).toFixed(digits))

/** For each column, the best value (to bold), or null when the column is empty. */
function bestPerColumn(rows: ResultsRow[], cols: Column[]): (number | null)[] {
  return cols.map((c) => {
    const vs = rows.map((r) => c.value(r.metrics)).filter((v): v is number => v !== null)
    return vs.length ? Math.max(...vs) : null
  })
}

/** GitHub-flavoured Markdown, best value of each column in bold. */
export function toMarkdown(rows: ResultsRow[], ks: number[]): string {
  const cols = columns(ks)
  const best = bestPerColumn(rows, cols)
  const esc = (s: string): string => s.replace(/\|/g, '\\|')
  const lines = [
    `| Method | ${cols.map((c) => c.header).join(' | ')} |`,
    `|---|${cols.map(() => '---:').join('|')}|`
  ]
  for (const r of rows) {
    const cells = cols.map((c, i) => {
      const v = c.value(r.metrics)
      const s = v === null ? '–' : pct(v)
      return v !== null && v === best[i] && rows.length > 1 ? `**${s}**` : s
    })
    lines.push(`| ${esc(r.method)} | ${cells.join(' | ')} |`)
  }
  return lines.join('\n') + '\n'
}

/** RFC 4180 CSV: one header line, percentages with two decimals, empty for a missing value. */
export function toCsv(rows: ResultsRow[], ks: number[]): string {
  const cols = columns(ks)
  const q = (s: string): string => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s)
  const head = [
    'method',
    'run_id',
    'backbone',
    'embedding_size',
    'frozen',
    ...cols.map((c) => c.header)
  ]
  const lines = [head.map(q).join(',')]
  for (const r of rows)
    lines.push(
      [
        q(r.method),
        String(r.runId),
        q(r.backbone),
        String(r.embeddingSize),
        String(r.frozen),
        ...cols.map((c) => pct(c.value(r.metrics), 2))
      ].join(',')
    )
  return lines.join('\r\n') + '\r\n'
}

/** Escapes LaTeX's special characters in text. */
export function latexEscape(s: string): string {
  return s.replace(/[\\&%$#_{}~^]/g, (ch) => {
    if (ch === '\\') return '\\textbackslash{}'
    if (ch === '~') return '\\textasciitilde{}'
    if (ch === '^') return '\\textasciicircum{}'
    return `\\${ch}`
  })
}

/** A booktabs tabular (needs \usepackage{booktabs}), best value of each column in \textbf. */
export function toLatex(rows: ResultsRow[], ks: number[], caption: string): string {
  const cols = columns(ks)
  const best = bestPerColumn(rows, cols)
  const lines = [
    '\\begin{table}[t]',
    '\\centering',
    `\\caption{${latexEscape(caption)}}`,
    `\\begin{tabular}{l${'c'.repeat(cols.length)}}`,
    '\\toprule',
    `Method & ${cols.map((c) => latexEscape(c.latex)).join(' & ')} \\\\`,
    '\\midrule'
  ]
  for (const r of rows) {
    const cells = cols.map((c, i) => {
      const v = c.value(r.metrics)
      const s = v === null ? '--' : pct(v)
      return v !== null && v === best[i] && rows.length > 1 ? `\\textbf{${s}}` : s
    })
    lines.push(`${latexEscape(r.method)} & ${cells.join(' & ')} \\\\`)
  }
  lines.push('\\bottomrule', '\\end{tabular}', '\\end{table}')
  return lines.join('\n') + '\n'
}

/** Builds the table of one dataset from its runs. */
export function buildResultsTable(
  datasetId: number,
  datasetName: string,
  runs: RunSummary[]
): ResultsTable {
  const rows = bestRuns(runs.filter((r) => r.datasetId === datasetId))
  const ks = tableKs(rows.map((r) => r.metrics))
  const caption = `Retrieval on ${datasetName}: best run of each loss (test split, %).`
  return {
    datasetId,
    datasetName,
    ks,
    rows,
    markdown: toMarkdown(rows, ks),
    csv: toCsv(rows, ks),
    latex: toLatex(rows, ks, caption)
  }
}
