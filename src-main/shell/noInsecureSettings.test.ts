/**
 * Guards the security baseline across the whole source tree: no insecure webPreferences and
 * no ipcRenderer outside the preload (and never handed to the page).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const root = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..')
const self = fileURLToPath(import.meta.url)
const SOURCE_DIRS = ['src-main', 'src-preload', 'src-renderer', 'e2e', 'resources']
const EXT = /\.(ts|mts|cts|js|mjs|cjs|vue|html)$/

function sourceFiles(dir: string): string[] {
  let out: string[] = []
  let entries: string[]
  try {
    entries = readdirSync(dir)
  } catch {
    return out
  }
  for (const name of entries) {
    if (name === 'node_modules' || name === 'screenshots') continue
    const p = join(dir, name)
    if (statSync(p).isDirectory()) out = out.concat(sourceFiles(p))
    else if (EXT.test(name) && p !== self) out.push(p)
  }
  return out
}

/** Patterns that must appear nowhere (whitespace and quotes tolerated). */
const FORBIDDEN: [string, RegExp][] = [
  ['nodeIntegration: true', /nodeIntegration(InWorker|InSubFrames)?['"]?\s*[:=]\s*true/],
  ['contextIsolation: false', /contextIsolation['"]?\s*[:=]\s*false/],
  ['sandbox: false', /sandbox['"]?\s*[:=]\s*false/],
  ['webSecurity: false', /webSecurity['"]?\s*[:=]\s*false/],
  ['allowRunningInsecureContent: true', /allowRunningInsecureContent['"]?\s*[:=]\s*true/],
  ['exposing ipcRenderer', /exposeInMainWorld\([^)]*ipcRenderer/],
  ['--no-sandbox in app code', /appendSwitch\(\s*['"]no-sandbox/]
]

const files = SOURCE_DIRS.flatMap((d) => sourceFiles(join(root, d)))

describe('security baseline in the source tree', () => {
  it('scans a real tree', () => {
    expect(files.some((f) => f.endsWith(join('src-main', 'index.ts')))).toBe(true)
    expect(files.some((f) => f.endsWith(join('src-preload', 'index.ts')))).toBe(true)
  })

  it.each(FORBIDDEN)('nothing sets %s', (_name, pattern) => {
    const hits = files
      .filter((f) => pattern.test(readFileSync(f, 'utf8')))
      .map((f) => relative(root, f))
    expect(hits).toEqual([])
  })

  it('uses ipcRenderer only in the preload, and ipcMain only in the shell', () => {
    const rel = (f: string): string => relative(root, f).split(sep).join('/')
    // App code only: tests and e2e specs mention them to check they are absent.
    const notTest = (f: string): boolean => !/\.test\.ts$/.test(f) && !rel(f).startsWith('e2e/')
    const renderer = files
      .filter((f) => notTest(f) && /\bipcRenderer\b/.test(readFileSync(f, 'utf8')))
      .map(rel)
    expect(renderer).toEqual(['src-preload/index.ts'])
    const main = files
      .filter((f) => notTest(f) && /\bipcMain\b/.test(readFileSync(f, 'utf8')))
      .map(rel)
    expect(main.every((f) => f.startsWith('src-main/shell/'))).toBe(true)
  })

  it('the patterns catch what they should', () => {
    const bad = 'webPreferences: { nodeIntegration: true, contextIsolation: false, sandbox: false }'
    expect(FORBIDDEN.filter(([, p]) => p.test(bad)).length).toBe(3)
    expect(FORBIDDEN[5][1].test("contextBridge.exposeInMainWorld('x', ipcRenderer)")).toBe(true)
  })
})
