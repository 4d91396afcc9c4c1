/** Command-line options of the desktop app (plain code, testable). */

/** The value of `--data-dir=<dir>` or `--data-dir <dir>` on the command line, if given. */
export function dataDirArg(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a.startsWith('--data-dir=')) return a.slice('--data-dir='.length) || undefined
    if (a === '--data-dir' && i + 1 < argv.length && !argv[i + 1].startsWith('--'))
      return argv[i + 1]
  }
  return undefined
}
