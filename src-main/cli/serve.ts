/**
 * `hist serve`: web mode. The app's UI and API on http://127.0.0.1:<port>, guarded by a token
 * printed in the URL; runs until SIGINT/SIGTERM, then closes the database cleanly.
 */
import type { Command } from 'commander'
import { createDownloadSource } from '../server/downloads'
import { resolveDataDir } from '../common/dataDir'
import { startServer, type RunningServer } from '../server'
import { createMediaSource } from '../server/mediaSource'
import { closeContext, createContext } from '../app/context'
import { createServices, type AppServices } from '../services/index'
import { backendLines, probedBackend, startBackendProbe } from '../services/system'
import { deviceOption, UsageError, type GlobalOptions } from './common'

/** Options of `hist serve`. */
interface ServeOptions {
  /** TCP port; 0 picks a free one. */
  port: string
  /** Print the address as one JSON line (for scripts and the e2e fixture). */
  json?: boolean
  /** Folder of the built renderer (default out/renderer). */
  staticDir?: string
  /** Device of in-process embedding (queries, evaluation); runs carry their own. */
  device?: string
}

/** Parses --port: an integer 0..65535. */
export function parsePort(text: string): number {
  const n = Number(text)
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new UsageError(`--port must be 0..65535, got "${text}"`)
  return n
}

/** Resolves when the process is asked to stop (SIGINT or SIGTERM). */
function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (sig: NodeJS.Signals): void => {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
      resolve(sig)
    }
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
  })
}

/** Registers `serve` on the program. */
export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('start web mode: the app in your browser, on 127.0.0.1 only, guarded by a token')
    .option('--port <n>', 'TCP port (0 picks a free one)', '0')
    .option('--json', 'print {"url","token","port","origin","dataDir"} as one JSON line')
    .option('--static-dir <dir>', 'folder of the built renderer (default: out/renderer)')
    .option(
      '--device <auto|gpu|cpu>',
      'device for queries and evaluation in this process (runs choose their own; default: auto)'
    )
    .action(async (opts: ServeOptions, cmd: Command) => {
      const port = parsePort(opts.port)
      if (opts.device) process.env.HIST_DEVICE = deviceOption(opts.device)
      const global = cmd.optsWithGlobals() as GlobalOptions
      const ctx = createContext(resolveDataDir({ flag: global.dataDir }), 'web')
      let server: RunningServer | null = null
      let services: AppServices | null = null
      try {
        services = createServices(ctx)
        const probe = startBackendProbe(ctx)
        server = await startServer({
          services,
          events: ctx.events,
          media: createMediaSource(ctx) ?? undefined,
          downloads: createDownloadSource(ctx),
          port,
          staticDir: opts.staticDir,
          initialEvents: () => {
            const backend = probedBackend(ctx)
            return backend ? [{ type: 'backend', backend }] : []
          }
        })
        const info = {
          url: server.url,
          token: server.token,
          port: server.port,
          origin: server.origin,
          dataDir: ctx.paths.root
        }
        if (opts.json) {
          process.stdout.write(JSON.stringify(info) + '\n')
        } else {
          process.stdout.write(
            `HIST Studio web mode\n  open:        ${info.url}\n  data folder: ${info.dataDir}\n` +
              '  (listening on 127.0.0.1 only; press Ctrl+C to stop)\n'
          )
          void probe.then((report) =>
            process.stdout.write(
              backendLines(report)
                .map((l) => `  ${l}\n`)
                .join('')
            )
          )
        }
        await untilSignal()
      } finally {
        if (server) await server.close()
        if (services) await services.dispose()
        closeContext(ctx)
      }
    })
}
