/**
 * node-gyp for the native evaluation kernel, shared by the install-time build
 * (build-eval-kernel.mjs) and the portable prebuild (prebuild-eval-kernel.mjs).
 */
import fs from 'node:fs'
import path from 'node:path'

/** The node-gyp script: npm's bundled one (exported to lifecycle scripts), or beside this Node. */
export function nodeGyp() {
  const npmModules = [
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules'),
    path.join(path.dirname(process.execPath), 'node_modules')
  ]
  const candidates = [
    process.env.npm_config_node_gyp,
    ...npmModules.map((m) => path.join(m, 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'))
  ]
  return candidates.find((c) => c && fs.existsSync(c)) ?? null
}

/** `--nodedir=` of the running Node's own headers when present: no download, so builds offline. */
export function nodedirArgs() {
  const nodedir = path.resolve(path.dirname(process.execPath), '..')
  return fs.existsSync(path.join(nodedir, 'include', 'node', 'node_api.h'))
    ? [`--nodedir=${nodedir}`]
    : []
}
