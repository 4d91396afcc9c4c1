/**
 * Test environment for the WebGPU backend: points Vulkan at Chromium's SwiftShader ICD (a
 * software adapter that Debian's `chromium` package ships) unless VK_ICD_FILENAMES is set, and
 * gives Dawn an XDG_RUNTIME_DIR. Tests skip ONLY when the `webgpu` package or (on Linux) the
 * ICD file is absent, and say which.
 */
import fs from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'

/** Chromium's software Vulkan driver description (Debian's chromium package). */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json'

/** Sets the variables; returns why WebGPU tests must skip, or null when they can run. */
export function webgpuTestEnv(): string | null {
  const require = createRequire(import.meta.url)
  try {
    require.resolve('webgpu')
  } catch {
    return 'the optional `webgpu` package (dawn.node) is not installed'
  }
  if (!process.env.XDG_RUNTIME_DIR)
    process.env.XDG_RUNTIME_DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'hist-xdg-'))
  if (process.platform !== 'linux') return null
  if (!process.env.VK_ICD_FILENAMES) {
    if (!fs.existsSync(SWIFTSHADER_ICD))
      return `the Vulkan ICD file ${SWIFTSHADER_ICD} is absent (install chromium, or set VK_ICD_FILENAMES)`
    process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD
  }
  const missing = process.env.VK_ICD_FILENAMES.split(':').filter((f) => !fs.existsSync(f))
  return missing.length
    ? `the Vulkan ICD file ${missing.join(', ')} is absent (install chromium, or set VK_ICD_FILENAMES)`
    : null
}
