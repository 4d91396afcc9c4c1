import type { Command } from 'commander'
import { COMPUTE_DEVICES, type ComputeDevice } from '../../src-preload/contract/system'
import { resolveDataDir } from '../common/dataDir'
import { createContext, type AppContext } from '../app/context'
import { InvalidError } from '../../src-preload/contract/errors'

/** Global options every command inherits from the root program. */
export interface GlobalOptions {
  dataDir?: string
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
