/**
 * The headless `hist` command line: the same services as the app, without Electron.
 * Each command lives in src-main/cli/<name>.ts and registers itself on the program.
 */
import { Command, CommanderError } from 'commander'
import { UsageError } from './cli/common'
import { registerCommands } from './cli/commands'

export function buildProgram(): Command {
  const program = new Command()
  program
    .name('hist')
    .description('HIST Studio: train, evaluate and explore image-embedding models with the HIST loss')
    .option('--data-dir <dir>', 'data folder (default: HIST_DATA_DIR or the OS app-data folder)')
    .showHelpAfterError()
  registerCommands(program)
  return program
}

export async function main(argv = process.argv): Promise<number> {
  const program = buildProgram()
  program.exitOverride()
  try {
    await program.parseAsync(argv)
    return 0
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode
    if (err instanceof UsageError) {
      process.stderr.write(`hist: ${err.message}\n`)
      return 2
    }
    process.stderr.write(`hist: ${err instanceof Error ? err.message : String(err)}\n`)
    return 1
  }
}

// Run when executed directly (tsx src-main/cli.ts, or the bin launcher).
const isMain = process.argv[1] && /cli\.(ts|js|mjs)$/.test(process.argv[1])
if (isMain) {
  main().then((code) => {
    process.exitCode = code
  })
}
