import { describe, expect, it } from 'vitest'
import type { Metrics } from '../../src-preload/contract/common'
import {
  TrainConfig,
  type RunSummary,
  type TrainConfigInput
} from '../../src-preload/contract/runs'
import {
  bestRuns,
  buildResultsTable,
  latexEscape,
  methodOf,
  tableKs,
  toCsv,
  toLatex,
  toMarkdown
} from './resultsTable'

function metrics(r1: number, extra: Partial<Metrics> = {}): Metrics {
  return {
    recall: { '1': r1, '2': r1 + 0.05, '4': r1 + 0.1, '8': r1 + 0.15, '16': 0.99 },
    rPrecision: r1 / 2,
    mapAtR: r1 / 3,
    nmi: 0.5,
    ...extra
  }
}

let nextId = 1
function run(
  config: Partial<TrainConfigInput>,
  m: Metrics | null,
  status: RunSummary['status'] = 'completed'
): RunSummary {
  const id = nextId++
  return {
    id,
    name: `run ${id}`,
    status,
    datasetId: 1,
    datasetName: 'birds',
    config: TrainConfig.parse({ datasetId: 1, ...config }),
    backend: 'wasm',
    appVersion: '0',
    createdAt: '',
    finishedAt: null,
    message: null,
    bestEpoch: 1,
    bestMetrics: m,
    baselineMetrics: m,
    testMetrics: m,
    rawMetrics: null,
    testFrom: m ? 'final' : null,
    belowBaseline: false,
    epochsDone: 1,
    tags: [],
    note: ''
  }
}

describe('results table', () => {
  it('names HIST variants apart from full HIST', () => {
    expect(methodOf(run({ loss: 'hist' }, null))).toBe('HIST')
    expect(methodOf(run({ loss: 'hist', ls: 0 }, null))).toBe('HIST (L_ds only)')
    expect(methodOf(run({ loss: 'hist', histDs: false }, null))).toBe('HIST (CE only)')
    expect(methodOf(run({ loss: 'hist', histGraph: 'graph' }, null))).toBe('HIST (plain graph)')
    expect(methodOf(run({ loss: 'proxy-anchor' }, null))).toBe('Proxy-Anchor')
  })

  it('keeps the best completed run of each method, sorted by R@1; other datasets and unfinished runs are left out', () => {
    const runs = [
      run({ loss: 'hist' }, metrics(0.6)),
      run({ loss: 'hist' }, metrics(0.7)),
      run({ loss: 'hist' }, metrics(0.9), 'failed'),
      run({ loss: 'proxy-anchor' }, metrics(0.65)),
      run({ loss: 'hist', ls: 0 }, metrics(0.62)),
      run({ loss: 'multi-similarity' }, null, 'running')
    ]
    const other = run({ loss: 'triplet' }, metrics(0.99))
    other.datasetId = 2
    const rows = bestRuns(runs)
    expect(rows.map((r) => [r.method, r.runId])).toEqual([
      ['HIST', runs[1].id],
      ['Proxy-Anchor', runs[3].id],
      ['HIST (L_ds only)', runs[4].id]
    ])
    expect(buildResultsTable(1, 'birds', [...runs, other]).rows).toHaveLength(3)
  })

  it('picks the paper K columns: 1-2-4-8, or SOP 1-10-100-1000', () => {
    expect(tableKs([metrics(0.5)])).toEqual([1, 2, 4, 8])
    const sop = { ...metrics(0.5), recall: { '1': 0.5, '10': 0.7, '100': 0.9, '1000': 0.99 } }
    expect(tableKs([sop])).toEqual([1, 10, 100, 1000])
  })

  it('exports Markdown with the best of each column in bold', () => {
    const rows = bestRuns([
      run({ loss: 'hist' }, metrics(0.612)),
      run({ loss: 'proxy-anchor' }, metrics(0.5, { nmi: 0.8 }))
    ])
    const md = toMarkdown(rows, [1, 2])
    expect(md).toBe(
      [
        '| Method | R@1 | R@2 | R-Prec | MAP@R | NMI |',
        '|---|---:|---:|---:|---:|---:|',
        '| HIST | **61.2** | **66.2** | **30.6** | **20.4** | 50.0 |',
        '| Proxy-Anchor | 50.0 | 55.0 | 25.0 | 16.7 | **80.0** |',
        ''
      ].join('\n')
    )
  })

  it('exports CSV (RFC 4180: quoted commas and quotes, CRLF, empty for a missing NMI)', () => {
    const rows = bestRuns([run({ loss: 'hist' }, metrics(0.5, { nmi: undefined }))])
    rows[0].method = 'HIST, "tuned"'
    const csv = toCsv(rows, [1])
    expect(csv).toBe(
      'method,run_id,backbone,embedding_size,frozen,R@1,R-Prec,MAP@R,NMI\r\n' +
        `"HIST, ""tuned""",${rows[0].runId},mobilenetv2,512,true,50.00,25.00,16.67,\r\n`
    )
  })

  it('exports a booktabs LaTeX table with escaped text and \\textbf on the best values', () => {
    expect(latexEscape('L_ds & 50% #1 {x} ~^\\')).toBe(
      'L\\_ds \\& 50\\% \\#1 \\{x\\} \\textasciitilde{}\\textasciicircum{}\\textbackslash{}'
    )
    const rows = bestRuns([
      run({ loss: 'hist', ls: 0 }, metrics(0.6)),
      run({ loss: 'triplet' }, metrics(0.4))
    ])
    const tex = toLatex(rows, [1], 'Results on my_birds')
    expect(tex.split('\n')).toEqual([
      '\\begin{table}[t]',
      '\\centering',
      '\\caption{Results on my\\_birds}',
      '\\begin{tabular}{lcccc}',
      '\\toprule',
      'Method & R@1 & R-Prec & MAP@R & NMI \\\\',
      '\\midrule',
      'HIST (L\\_ds only) & \\textbf{60.0} & \\textbf{30.0} & \\textbf{20.0} & \\textbf{50.0} \\\\',
      'Triplet (semi-hard) & 40.0 & 20.0 & 13.3 & \\textbf{50.0} \\\\', // a tie is bold in both rows
      '\\bottomrule',
      '\\end{tabular}',
      '\\end{table}',
      ''
    ])
  })
})
