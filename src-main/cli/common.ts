import type { Command } from 'commander'
import { COMPUTE_DEVICES, type ComputeDevice } from '../../src-preload/contract/system'
import { resolveDataDir } from '../common/dataDir'
import { createContext, type AppContext } from '../app/context'
import { InvalidError } from '../../src-preload/contract/errors'

/** Global options every command inherits from the root program. */
export interface GlobalOptions {
  dataDir?: string
  verbose?: boolean
}

/**
 * Exit codes of `hist` (also in `hist --help` and the README):
 * 0 success; 1 the work failed (a failed run, a damaged file, an unexpected error);
 * 2 usage or validation error (bad option, unknown id, invalid config); 130 cancelled (Ctrl-C).
 */
export const EXIT = { ok: 0, failed: 1, usage: 2, cancelled: 130 } as const

let commandExit: number = EXIT.ok

/** Sets the code `main` returns once the command finishes (commander drops action results). */
export function setExitCode(code: number): void {
  commandExit = code
}

/** The code set by the finished command, reset for the next call (tests run `main` in-process). */
export function takeExitCode(): number {
  const c = commandExit
  commandExit = EXIT.ok
  return c
}

/** Opens the app context for a CLI command, honouring --data-dir and HIST_DATA_DIR. */
export function openCliContext(cmd: Command): AppContext {
  const opts = cmd.optsWithGlobals() as GlobalOptions
  return createContext(resolveDataDir({ flag: opts.dataDir }), 'cli')
}

/** Prints a result as JSON (for --json) or as human-readable text. */
export function printResult(json: boolean | undefined, data: unknown, human: () => string): void {
  if (json) process.stdout.write(JSON.stringify(data, null, 2) + '\n')
  else process.stdout.write(human() + '\n')
}

/** Error for bad CLI input: printed without a stack trace, exit code 2. */
export class UsageError extends InvalidError {
  constructor(message: string) {
    super(message)
    this.name = 'UsageError'
  }
}

/** Parses --device (auto|gpu|cpu); anything else is a usage error. */
export function deviceOption(text: string): ComputeDevice {
  if ((COMPUTE_DEVICES as readonly string[]).includes(text)) return text as ComputeDevice
  throw new UsageError(`--device must be one of ${COMPUTE_DEVICES.join(', ')}, got "${text}"`)
}

/** Error for an expected failure (a failed run, a damaged bundle): one line, exit code 1. */
export class CommandFailedError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'CommandFailedError'
  }
}

/** Exit code and one-line message of anything a command threw. */
export function describeFailure(err: unknown): { code: number; message: string } {
  const message = err instanceof Error ? err.message : String(err)
  const wire = (err as { code?: unknown } | null)?.code
  // An unknown id, an invalid config or a call the state forbids is the caller's mistake.
  if (
    err instanceof UsageError ||
    wire === 'invalid_payload' ||
    wire === 'not_found' ||
    wire === 'conflict'
  )
    return { code: EXIT.usage, message }
  return { code: EXIT.failed, message }
}
