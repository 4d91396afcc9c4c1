/**
 * Finds and starts the file of a worker thread; shared by the embedding pool (data/embedPool),
 * the explain runner (explain/runner) and the network runner (models/networkRunner).
 *
 * - An environment variable (e.g. HIST_EMBED_WORKER) names the file outright.
 * - Under tsx and vitest the caller's module URL ends in '.ts' and the worker is its TypeScript
 *   source, started from a tiny eval'd bootstrap that registers tsx's ESM loader in the worker
 *   (`register()` from tsx/esm/api) before importing the source — passing
 *   `execArgv: ['--import', 'tsx']` does not work for worker threads on Node 20 (the hooks are
 *   not active for the worker's entry).
 * - After electron-vite bundling the caller is JavaScript and the worker is the separately built
 *   entry (`<name>.js`, electron.vite.config.ts lists it), found next to the caller's chunk or
 *   one folder up.
 */
import * as fs from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'

/** Where a worker's code lives. */
export interface WorkerFile {
  /** Name of the built entry (its key in electron.vite.config.ts), e.g. 'explainWorker'. */
  name: string
  /** The TypeScript source, relative to the caller's module, e.g. './worker.ts'. */
  source: string
  /** The environment variable that overrides the path, e.g. 'HIST_EXPLAIN_WORKER'. */
  envVar: string
}

/** The file a worker runs: an override, the TypeScript source (needs tsx) or a built entry. */
export interface WorkerEntry {
  kind: 'override' | 'typescript' | 'built'
  /** Absolute path (or the override exactly as given). */
  file: string
}

/** The built entry's candidate paths for a caller at `moduleUrl`: ./x.js, ../x.js, ./x.mjs, ../x.mjs. */
export function builtCandidates(name: string, moduleUrl: string): string[] {
  const out: string[] = []
  for (const ext of ['.js', '.mjs'])
    for (const dir of ['./', '../']) out.push(fileURLToPath(new URL(dir + name + ext, moduleUrl)))
  return out
}

/**
 * Resolves the worker file for a caller at `moduleUrl` (its import.meta.url); throws an Error
 * naming every path looked at and the environment variable when none exists.
 */
export function resolveWorkerEntry(
  file: WorkerFile,
  moduleUrl: string,
  env: NodeJS.ProcessEnv = process.env
): WorkerEntry {
  const override = env[file.envVar]
  if (override) {
    if (!fs.existsSync(override))
      throw new Error(`${file.envVar} names a worker file that does not exist: ${override}`)
    return { kind: 'override', file: override }
  }
  if (moduleUrl.endsWith('.ts')) {
    const source = fileURLToPath(new URL(file.source, moduleUrl))
    if (!fs.existsSync(source))
      throw new Error(
        `the ${file.name} source was not found: looked for ${source}; set ${file.envVar}`
      )
    return { kind: 'typescript', file: source }
  }
  const candidates = builtCandidates(file.name, moduleUrl)
  const found = candidates.find((c) => fs.existsSync(c))
  if (found) return { kind: 'built', file: found }
  throw new Error(
    `${file.name}.js not found next to ${fileURLToPath(moduleUrl)}: looked for ${candidates.join(', ')}; set ${file.envVar}`
  )
}

/** The eval'd bootstrap that registers tsx's ESM loader, then imports `source`. */
function tsxBootstrap(source: string): string {
  const require = createRequire(import.meta.url)
  const api = pathToFileURL(
    require.resolve('tsx').replace(/loader\.mjs$/, 'esm/api/index.mjs')
  ).href
  const target = pathToFileURL(source).href
  return `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(target)}) })`
}

/**
 * Starts the worker `file` for a caller at `moduleUrl` (its import.meta.url), passing
 * `workerData` when given. Throws (synchronously) when the file cannot be found.
 */
export function startWorker(file: WorkerFile, moduleUrl: string, workerData?: unknown): Worker {
  const entry = resolveWorkerEntry(file, moduleUrl)
  const opts = workerData === undefined ? {} : { workerData }
  if (entry.kind === 'typescript')
    return new Worker(tsxBootstrap(entry.file), { ...opts, eval: true })
  return new Worker(entry.file, opts)
}
