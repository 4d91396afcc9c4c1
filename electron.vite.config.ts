import { resolve } from 'node:path'
import vue from '@vitejs/plugin-vue'
import { defineConfig, externalizeDepsPlugin } from 'electron-vite'

// Our folders are src-main / src-preload / src-renderer, so every input is named explicitly.
export default defineConfig({
  main: {
    plugins: [externalizeDepsPlugin()],
    build: {
      outDir: 'out/main',
      rollupOptions: {
        input: {
          index: resolve(__dirname, 'src-main/index.ts'),
          trainer: resolve(__dirname, 'src-main/trainer/entry.ts'),
          // Worker thread of the retrieval embedding map (found beside the bundle at run time).
          projectionWorker: resolve(__dirname, 'src-main/retrieval/projectionWorker.ts'),
          // Worker thread of the image-embedding pool (src-main/ml/data/embedPool.ts finds it by name).
          embedWorker: resolve(__dirname, 'src-main/ml/data/embedWorker.ts'),
          // Worker thread of the similarity heat-maps (src-main/ml/explain/runner.ts finds it by name).
          explainWorker: resolve(__dirname, 'src-main/ml/explain/worker.ts'),
          // Worker thread embedding images with a run's network (src-main/ml/models/networkRunner.ts finds it by name).
          networkWorker: resolve(__dirname, 'src-main/ml/models/networkWorker.ts')
        }
      }
    }
  },
  preload: {
    // Sandboxed preloads cannot require node_modules, so the contract (and zod) is bundled in.
    plugins: [externalizeDepsPlugin({ exclude: ['zod'] })],
    build: {
      outDir: 'out/preload',
      rollupOptions: {
        input: { index: resolve(__dirname, 'src-preload/index.ts') },
        output: { format: 'cjs' }
      }
    }
  },
  renderer: {
    root: resolve(__dirname, 'src-renderer'),
    plugins: [vue()],
    build: {
      outDir: resolve(__dirname, 'out/renderer'),
      emptyOutDir: true,
      rollupOptions: { input: { index: resolve(__dirname, 'src-renderer/index.html') } }
    }
  }
})
