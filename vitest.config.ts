import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['src-main/**/*.test.ts', 'src-preload/**/*.test.ts', 'src-renderer/src/**/*.test.ts', 'bench/**/*.test.ts'],
    environment: 'node',
    // Native modules (better-sqlite3, sharp) and the tfjs wasm backend are happiest in forks.
    pool: 'forks',
    // VK_ICD_FILENAMES + XDG_RUNTIME_DIR for the WebGPU tests and the processes tests start.
    setupFiles: ['src-main/ml/backend/webgpuEnv.setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    env: {
      // Tests never touch the user's real data folder.
      HIST_DATA_DIR: '/nonexistent-use-a-temp-dir'
    }
  }
})
