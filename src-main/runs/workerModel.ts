/**
 * A run's selected model described as plain data (NetworkSpec), and loaded in a worker thread
 * (ml/models/networkRunner.ts): the main process embeds a run's images through it without
 * holding its event loop. Imports no TensorFlow.js itself.
 */
import { join } from 'node:path'
import type { AppContext } from '../app/context'
import { loadNetworkInWorker } from '../ml/models/networkRunner'
import type { Network, NetworkSpec } from '../ml/models/runNetwork'
import { RunsRepo } from './repo'

/** A run's selected checkpoint and how to load it; `file` is the checkpoint's name in the run folder. */
export function networkSpecOf(
  ctx: AppContext,
  runId: number
): { spec: NetworkSpec; file: string; label: string } {
  const repo = new RunsRepo(ctx.db)
  const run = repo.get(runId)
  const st = repo.resumeState(runId)
  const file = st.bestCheckpoint ?? st.checkpoint
  if (!file || !st.dir)
    throw new Error(`run ${runId} has no saved model yet (no epoch has finished)`)
  return {
    spec: {
      backbone: run.config.backbone,
      seed: run.config.seed,
      embeddingSize: run.config.embeddingSize,
      checkpointPath: join(st.dir, file),
      modelsDir: ctx.paths.models
    },
    file,
    label: `${file} of run ${runId}`
  }
}

/** Loads the run's selected model in a new worker thread; embed() takes image paths. */
export async function loadRunModelInWorker(ctx: AppContext, runId: number): Promise<Network> {
  const { spec, label } = networkSpecOf(ctx, runId)
  return loadNetworkInWorker(spec, label)
}
