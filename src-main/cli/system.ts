/**
 * `hist system [--device auto|gpu|cpu] [--json]`: which TensorFlow.js backend and device this
 * machine trains on, the GPU adapter (and whether it is a software one), why every other
 * backend was skipped, and the fast kernels of the active backend.
 */
import type { Command } from 'commander'
import type { BackendReport, ComputeDevice } from '../../src-preload/contract/system'
import { backendLabel, describeBackend, initBackend, NoDeviceError } from '../ml/backend'
import { deviceOption, printResult } from './common'

/** Human-readable lines of a report. */
export function systemLines(report: BackendReport): string[] {
  const lines = [
    `Backend: ${backendLabel(report)} (device: ${report.device ?? 'cpu'}, asked: ${report.requested ?? 'auto'})`,
    ...describeBackend(report).map((l) => `  ${l}`)
  ]
  if (report.adapter?.software)
    lines.push(
      '  note: the WebGPU adapter is a software one (a CPU implementation): plumbing, not GPU speed'
    )
  for (const f of report.fastPaths ?? [])
    lines.push(`  fast path ${f.name}: ${f.active ? 'on' : 'off'} (${f.detail})`)
  return lines
}

async function systemCommand(o: { device?: string; json?: boolean }): Promise<void> {
  const device: ComputeDevice | undefined = o.device ? deviceOption(o.device) : undefined
  try {
    const report = await initBackend(device ? { device } : {})
    printResult(o.json, report, () => systemLines(report).join('\n'))
  } catch (err) {
    if (err instanceof NoDeviceError && o.json) {
      printResult(true, { error: err.message, candidates: err.candidates }, () => '')
      process.exitCode = 1
      return
    }
    throw err
  }
}

/** Registers `system` on the program. */
export function registerSystem(program: Command): void {
  program
    .command('system')
    .description(
      'show the TensorFlow.js backend, the device (GPU adapter) and why others were skipped'
    )
    .option('--device <auto|gpu|cpu>', 'probe for this device (default: HIST_DEVICE or auto)')
    .option('--json', 'print the backend report as JSON')
    .action((o: { device?: string; json?: boolean }) => systemCommand(o))
}
