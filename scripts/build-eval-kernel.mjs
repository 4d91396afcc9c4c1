#!/usr/bin/env node
/**
 * Builds the optional native evaluation kernel (binding.gyp → build/Release/simkernel.node) with
 * node-gyp, at `npm install` / `npm ci` (the package's install script) or by hand
 * (`npm run build:native`). Nothing is compiled when the app runs. The install never fails
 * because of it: without a C++ toolchain the evaluation uses its JS / TensorFlow.js fallback,
 * which gives the same results (src-main/ml/eval/native.test.ts), and `hist system` says so.
 * HIST_EVAL_NATIVE=0 skips the build. Offline: the headers of the running Node are used.
 * This build targets the machine it runs on (-march=native); the portable builds a packaged app
 * ships come from `npm run native:prebuild` (prebuild-eval-kernel.mjs).
 */
import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { nodeGyp, nodedirArgs } from './native-gyp.mjs'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

function main() {
  if (process.env.HIST_EVAL_NATIVE === '0') {
    console.log('eval kernel: skipped (HIST_EVAL_NATIVE=0)')
    return
  }
  const gyp = nodeGyp()
  if (!gyp) {
    console.warn('eval kernel: node-gyp not found; evaluation will use the JS fallback')
    return
  }
  const args = [gyp, 'rebuild', ...nodedirArgs()]
  if (process.env.HIST_SIMK_MARCH) args.push(`--simk_march=${process.env.HIST_SIMK_MARCH}`)
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' })
  if (r.status === 0) console.log('eval kernel: built build/Release/simkernel.node')
  else
    console.warn(
      'eval kernel: build failed (no C++ toolchain?); evaluation will use the JS fallback'
    )
}

main()
