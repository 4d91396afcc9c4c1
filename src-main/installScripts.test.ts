/**
 * npm 12 skips the install script of every dependency not approved in package.json's
 * `allowScripts` (npm 11.16+ only warns): better-sqlite3 would then have no binary, Electron no
 * app, esbuild no executable, webgpu no Dawn. Every package of the lockfile that has an install
 * script must therefore be decided here, allowed (true) or denied (false), name-only so that a
 * version bump keeps it; a new dependency with a script fails this test, not a user's install.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

const read = (file: string): unknown => JSON.parse(readFileSync(join(process.cwd(), file), 'utf8'))
const pkg = read('package.json') as { allowScripts?: Record<string, boolean> }
const lock = read('package-lock.json') as {
  packages: Record<string, { hasInstallScript?: boolean }>
}

/** Names of the locked packages with an install script (the project itself excluded). */
const withScripts = [
  ...new Set(
    Object.entries(lock.packages)
      .filter(([path, p]) => path !== '' && p.hasInstallScript)
      .map(([path]) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length))
  )
].sort()

describe('install scripts (npm allowScripts)', () => {
  it('decides every locked package that has an install script, and nothing else', () => {
    expect(withScripts.length).toBeGreaterThan(0)
    expect(Object.keys(pkg.allowScripts ?? {}).sort()).toEqual(withScripts)
  })

  it('allows the ones the app needs and denies core-js (a funding message only)', () => {
    const allowed = Object.entries(pkg.allowScripts ?? {})
      .filter(([, ok]) => ok === true)
      .map(([name]) => name)
    for (const name of ['better-sqlite3', 'electron', 'esbuild', 'webgpu'])
      expect(allowed).toContain(name)
    expect(pkg.allowScripts?.['core-js']).toBe(false)
  })
})
