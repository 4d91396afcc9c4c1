import type { BackendReport } from '../../../src-preload/contract'

/** One status-bar line per backend candidate: "wasm: in use", "tensorflow: <why skipped>". */
export function backendLines(report: BackendReport | null): string[] {
  if (!report) return ['TensorFlow.js backend: checking…']
  return report.candidates.map((c) => {
    if (c.status === 'in-use') return `${c.name}: in use`
    if (c.status === 'skipped') return `${c.name}: ${c.reason ?? 'skipped'}`
    return `${c.name}: available`
  })
}
