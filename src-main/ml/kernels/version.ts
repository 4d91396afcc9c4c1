/**
 * The tfjs versions the kernels in this folder were written against. The SIMD kernels read
 * tfjs-backend-wasm internals (its heap, dataIdMap, makeOutput) and the substitute gradients
 * replace kernels by name, so a different version may change what they rely on: the fast paths
 * are switched off, with this reason, unless the installed versions match exactly.
 * package.json pins the same versions; bump both together after re-running the kernel tests.
 */
import * as tf from '@tensorflow/tfjs'
import { version_wasm } from '@tensorflow/tfjs-backend-wasm'

/** Package → version the kernels were written and tested for. */
export const KERNELS_WRITTEN_FOR: Readonly<Record<string, string>> = {
  '@tensorflow/tfjs-core': '4.22.0',
  '@tensorflow/tfjs-backend-wasm': '4.22.0'
}

/** The versions installed in this process. */
export function installedTfjsVersions(): Record<string, string> {
  return {
    '@tensorflow/tfjs-core': tf.version_core,
    '@tensorflow/tfjs-backend-wasm': version_wasm
  }
}

/**
 * Null when every package in KERNELS_WRITTEN_FOR is installed at its version, else the reason,
 * e.g. "@tensorflow/tfjs-backend-wasm 4.23.0 is installed; the kernels were written for 4.22.0".
 */
export function tfjsVersionMismatch(
  installed: Record<string, string> = installedTfjsVersions()
): string | null {
  const wrong = Object.entries(KERNELS_WRITTEN_FOR)
    .filter(([pkg, want]) => installed[pkg] !== want)
    .map(
      ([pkg, want]) =>
        `${pkg} ${installed[pkg] ?? '(missing)'} is installed; the kernels were written for ${want}`
    )
  return wrong.length ? wrong.join('; ') : null
}
