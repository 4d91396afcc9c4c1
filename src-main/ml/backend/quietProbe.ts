/**
 * Asks for a WebGPU adapter in a short-lived child process first. Dawn and the Vulkan loader
 * write their diagnostics ("Couldn't load Vulkan", "XDG_RUNTIME_DIR is invalid", a missing
 * device feature…) straight to the process's stderr from native code, where no JavaScript can
 * catch them. In a child they land in a pipe instead, so a machine without a usable GPU sees a
 * one-line skip reason in the backend report and nothing on its terminal; Dawn is loaded in this
 * process only when the child found an adapter worth using.
 */
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'

/** What the child saw. */
export type QuietProbe =
  | { found: false; reason: string }
  | {
      found: true
      info: { vendor?: string; architecture?: string; description?: string; device?: string }
      fallback: boolean
    }

const SCRIPT = `
const m = await import(process.env.HIST_DAWN_URL)
const dawn = m.default && m.default.create ? m.default : m
Object.assign(globalThis, dawn.globals)
const a = await dawn.create([]).requestAdapter({ powerPreference: 'high-performance' })
const i = a && a.info ? a.info : {}
process.stdout.write('\\n@@' + JSON.stringify(a ? { found: true, fallback: a.isFallbackAdapter === true,
  info: { vendor: i.vendor, architecture: i.architecture, description: i.description, device: i.device } } : { found: false }) + '\\n')
process.exit(0)
`

/**
 * Runs the adapter request in a child Node (Electron's binary runs as Node through
 * ELECTRON_RUN_AS_NODE). Null when the child could not answer (then the caller probes in-process).
 */
export function probeAdapterQuietly(
  packageName: string,
  env: NodeJS.ProcessEnv,
  timeoutMs = 30_000
): QuietProbe | null {
  let url: string
  try {
    url = pathToFileURL(createRequire(import.meta.url).resolve(packageName)).href
  } catch {
    return null
  }
  const res = spawnSync(process.execPath, ['--input-type=module', '-e', SCRIPT], {
    env: { ...env, HIST_DAWN_URL: url, ELECTRON_RUN_AS_NODE: '1' },
    encoding: 'utf8',
    timeout: timeoutMs,
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const line = (res.stdout ?? '').split('\n').find((l) => l.startsWith('@@'))
  if (!line) return null
  try {
    const out = JSON.parse(line.slice(2)) as QuietProbe | { found: false }
    return out.found ? out : { found: false, reason: '' }
  } catch {
    return null
  }
}
