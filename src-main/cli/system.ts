/**
 * `hist system [--json]`: what the app runs on — version, data folder, the TensorFlow.js backend
 * probe (why each other backend was skipped) and whether each fast kernel path is on, and why not.
 */
import type { Command } from 'commander'
import type { BackendReport, FastPathStatus, SystemStatus } from '../../src-preload/contract'
import { closeContext } from '../app/context'
import { backendLines, createSystemService, startBackendProbe } from '../services/system'
import { describeAdapter } from '../ml/backend'
import { deviceOption, openCliContext, printResult } from './common'
import { invoke } from '../dispatch'

/** One line per fast path, e.g. "wasm-simd: on (fused Adam …)" or "wasm-simd: off: …". */
export function fastPathLines(paths: FastPathStatus[] | null): string[] {
  if (!paths) return ['fast kernels: unknown (no backend)']
  return paths.map((p) => (p.active ? `${p.name}: on (${p.detail})` : `${p.name}: ${p.detail}`))
}

/** "gpu: webgpu on google swiftshader (…) — a software adapter (…)" or "cpu: wasm". */
export function deviceLine(r: BackendReport | null): string {
  if (!r) return 'unknown (no backend)'
  const on = r.adapter ? ` on ${describeAdapter(r.adapter)}` : ''
  const sw = r.adapter?.software
    ? ' (a software adapter: a CPU implementation of the GPU API, plumbing, not GPU speed)'
    : ''
  return `${r.device ?? 'cpu'}: ${r.active}${on}${sw} (asked: ${r.requested ?? 'auto'})`
}

/** The human-readable form of `hist system`. */
export function formatSystem(s: SystemStatus): string {
  return [
    `HIST Studio ${s.appVersion}`,
    `data folder: ${s.dataDir}`,
    `device: ${deviceLine(s.backend)}`,
    'TensorFlow.js backends:',
    ...backendLines(s.backend).map((l) => `  ${l}`),
    'fast kernels:',
    ...fastPathLines(s.fastPaths).map((l) => `  ${l}`)
  ].join('\n')
}

export function registerSystem(program: Command): void {
  program
    .command('system')
    .description(
      'show the device and TensorFlow.js backend (GPU adapter), why others were skipped, and the fast kernel paths'
    )
    .option('--device <auto|gpu|cpu>', 'probe for this device (default: HIST_DEVICE or auto)')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean; device?: string }, cmd: Command) => {
      if (opts.device) process.env.HIST_DEVICE = deviceOption(opts.device)
      const ctx = openCliContext(cmd)
      try {
        await startBackendProbe(ctx)
        const status = await invoke('system', createSystemService(ctx), 'status', undefined)
        printResult(opts.json, status, () => formatSystem(status))
      } finally {
        closeContext(ctx)
      }
    })
}
