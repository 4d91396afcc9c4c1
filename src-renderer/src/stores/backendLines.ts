import type { BackendReport, FastPathStatus } from '../../../src-preload/contract'

/** One status-bar line per backend candidate: "wasm: in use", "tensorflow: <why skipped>". */
export function backendLines(report: BackendReport | null): string[] {
  if (!report) return ['TensorFlow.js backend: checking…']
  return report.candidates.map((c) => {
    if (c.status === 'in-use') return `${c.name}: in use`
    if (c.status === 'skipped') return `${c.name}: ${c.reason ?? 'skipped'}`
    return `${c.name}: available`
  })
}

/**
 * The status bar's fast-kernel line ("Fast kernels: 2 of 3 on") and its tooltip (one line per
 * path, with the reason when off); null before the backend probe answered.
 */
export function fastPathSummary(
  paths: FastPathStatus[] | null | undefined
): { text: string; title: string } | null {
  if (!paths || paths.length === 0) return null
  const on = paths.filter((p) => p.active).length
  return {
    text: `Fast kernels: ${on} of ${paths.length} on`,
    title: paths
      .map((p) => (p.active ? `${p.name}: on (${p.detail})` : `${p.name}: ${p.detail}`))
      .join('\n')
  }
}

/**
 * The status bar's device line: "Device: GPU (webgpu on google swiftshader, software adapter)"
 * or "Device: CPU (wasm)"; null before the backend probe answered.
 */
export function deviceSummary(report: BackendReport | null): string | null {
  if (!report) return null
  const gpu = report.device === 'gpu'
  const a = report.adapter
  const on = a ? ` on ${[a.vendor, a.architecture].filter(Boolean).join(' ') || 'a GPU'}` : ''
  const sw = a?.software ? ', software adapter' : ''
  return `Device: ${gpu ? 'GPU' : 'CPU'} (${report.active}${on}${sw})`
}
