/**
 * The headless `hist` command line: the same services as the app, without Electron.
 * Each command lives in src-main/cli/<name>.ts and registers itself on the program.
 */
import { Command, CommanderError } from 'commander'
import { describeFailure, EXIT, takeExitCode } from './cli/common'
import { registerCommands } from './cli/commands'

export function buildProgram(): Command {
  const program = new Command()
  program
    .name('hist')
    .description(
      'HIST Studio: train, evaluate and explore image-embedding models with the HIST loss'
    )
    .option('--data-dir <dir>', 'data folder (default: HIST_DATA_DIR or the OS app-data folder)')
    .option('--verbose', 'print stack traces of errors (also those of the trainer process)')
    .showHelpAfterError()
    .addHelpText(
      'after',
      `
Exit codes:
  ${EXIT.ok}    success
  ${EXIT.failed}    the work failed (a failed run, an unexpected error)
  ${EXIT.usage}    usage or validation error (bad option, unknown id, invalid training config,
       a damaged or foreign input file such as a truncated checkpoint in a run bundle)
  ${EXIT.cancelled}  cancelled with Ctrl-C`
    )
  registerCommands(program)
  return program
}

/** Runs the CLI and returns its exit code (see `EXIT`); never throws. */
export async function main(argv = process.argv): Promise<number> {
  const program = buildProgram()
  program.exitOverride()
  const verbose = argv.includes('--verbose')
  // The trainer process inherits this and prints its stack traces only when it is set.
  if (verbose) process.env.HIST_VERBOSE = '1'
  takeExitCode()
  try {
    await program.parseAsync(argv)
    return takeExitCode()
  } catch (err) {
    takeExitCode()
    if (err instanceof CommanderError) return err.exitCode
    const { code, message } = describeFailure(err)
    process.stderr.write(`hist: ${message}\n`)
    if (verbose && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`)
    return code
  }
}

// Run when executed directly (tsx src-main/cli.ts, or the bin launcher).
const isMain = process.argv[1] && /cli\.(ts|js|mjs)$/.test(process.argv[1])
if (isMain) {
  main().then((code) => {
    process.exitCode = code
  })
}
