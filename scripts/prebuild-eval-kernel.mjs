#!/usr/bin/env node
/**
 * `npm run native:prebuild`: the PORTABLE native evaluation kernel a packaged desktop app ships,
 * in prebuilds/<platform>-<arch>/ (or `--out <dir>`, then <dir>/<platform>-<arch>/):
 *   simkernel.node             the baseline every CPU of the platform runs: x86-64-v2 on x64
 *                              (the scalar kernel), armv8-a on arm64
 *   simkernel-x86-64-v3.node   x64 with GCC/Clang only: the AVX2+FMA+F16C kernel; the loader
 *                              (src-main/ml/eval/native.ts) takes it only when the baseline's
 *                              cpu() reports those features, so no CPU ever faults on it
 * Plain N-API (ABI-stable): the same files serve Node and Electron, no electron-rebuild. Built in
 * a scratch copy of binding.gyp and the source, so build/Release (the install-time build,
 * -march=native) stays as it is. Unlike the install step it fails loudly: a packager must know.
 */
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { nodeGyp, nodedirArgs } from './native-gyp.mjs'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const SOURCES = path.join('src-main', 'ml', 'eval', 'native')

/** The variants per architecture: [file name, -march], baseline first. */
function variants() {
  if (process.arch === 'x64') {
    const base = [['simkernel.node', 'x86-64-v2']]
    // MSVC ignores -march (binding.gyp passes it to GCC/Clang only): one scalar build there.
    return process.platform === 'win32'
      ? base
      : [...base, ['simkernel-x86-64-v3.node', 'x86-64-v3']]
  }
  if (process.arch === 'arm64') return [['simkernel.node', 'armv8-a']]
  return null
}

function outDir() {
  const i = process.argv.indexOf('--out')
  const base =
    i > 0 && process.argv[i + 1] ? path.resolve(process.argv[i + 1]) : path.join(root, 'prebuilds')
  return path.join(base, `${process.platform}-${process.arch}`)
}

function fail(message) {
  console.error(`native:prebuild: ${message}`)
  process.exit(1)
}

function build(gyp, march, dest) {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'hist-simk-'))
  try {
    fs.copyFileSync(path.join(root, 'binding.gyp'), path.join(scratch, 'binding.gyp'))
    fs.cpSync(path.join(root, SOURCES), path.join(scratch, SOURCES), { recursive: true })
    const args = [gyp, 'rebuild', ...nodedirArgs(), `--simk_march=${march}`]
    const r = spawnSync(process.execPath, args, { cwd: scratch, stdio: 'inherit' })
    if (r.status !== 0) fail(`node-gyp failed for -march=${march} (is a C++ toolchain installed?)`)
    fs.copyFileSync(path.join(scratch, 'build', 'Release', 'simkernel.node'), dest)
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true })
  }
}

function main() {
  const list = variants()
  if (!list) fail(`no portable variant is defined for ${process.arch}; the app falls back to JS`)
  const gyp = nodeGyp()
  if (!gyp) fail('node-gyp not found (it ships with npm)')
  const dir = outDir()
  fs.mkdirSync(dir, { recursive: true })
  for (const [file, march] of list) {
    build(gyp, march, path.join(dir, file))
    console.log(`native:prebuild: ${path.join(dir, file)} (-march=${march})`)
  }
  // Each file loads and answers; the v3 one only where this CPU can run it.
  const check = `
    const base = require(${JSON.stringify(path.join(dir, list[0][0]))})
    const cpu = base.cpu().split(' ')
    console.log('native:prebuild: baseline kernel ' + base.kind() + '; this CPU: ' + (cpu.join(' ') || 'no AVX'))
    const v3 = ${JSON.stringify(path.join(dir, 'simkernel-x86-64-v3.node'))}
    if (require('node:fs').existsSync(v3) && ['avx2', 'fma', 'f16c'].every((f) => cpu.includes(f)))
      console.log('native:prebuild: x86-64-v3 kernel ' + require(v3).kind())`
  const r = spawnSync(process.execPath, ['-e', check], { stdio: 'inherit' })
  if (r.status !== 0) fail('a prebuilt kernel does not load')
}

main()
