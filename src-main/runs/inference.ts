/**
 * A run's trained model, in-process, for the retrieval browser and `hist eval`: loads the
 * selected checkpoint (the best epoch; the last one for an unfinished run) into the backbone
 * and the embedding head (ml/models/runNetwork.ts), and embeds images the same way the trainer
 * embedded the gallery (test transform, L2-normalised rows), so that external queries are
 * comparable with it. workerModel.ts loads the same model in a worker thread.
 */
import { backendReport, initBackend } from '../ml/backend'
import type { Backbone } from '../ml/models/backbones'
import type { EmbeddingHead } from '../ml/models/head'
import { loadCheckpointNetwork, networkOf, type Network } from '../ml/models/runNetwork'
import type { TrainConfig } from '../../src-preload/contract/runs'
import type { AppContext } from '../app/context'
import { RunsRepo } from './repo'
import { networkSpecOf } from './workerModel'

export { galleryPath } from './paths'

/** A loaded run model: embeds image files (paths) or encoded image bytes to n × dim L2-normalised rows. */
export type RunModel = Network

/** A run's trained network: backbone (BN frozen) and embedding head with the selected weights. */
export interface RunNetwork {
  backbone: Backbone
  head: EmbeddingHead
  config: TrainConfig
  /** The checkpoint file the weights came from. */
  checkpoint: string
}

/** Loads the backbone and head of a run's selected checkpoint (the caller disposes both). */
export async function loadRunNetwork(ctx: AppContext, runId: number): Promise<RunNetwork> {
  const { spec, file, label } = networkSpecOf(ctx, runId)
  if (!backendReport()) await initBackend()
  const net = await loadCheckpointNetwork(spec, { label })
  return { ...net, config: new RunsRepo(ctx.db).get(runId).config, checkpoint: file }
}

/** Loads a run's selected checkpoint for in-process embedding. */
export async function loadRunModel(ctx: AppContext, runId: number): Promise<RunModel> {
  const { spec, label } = networkSpecOf(ctx, runId)
  if (!backendReport()) await initBackend()
  return networkOf(await loadCheckpointNetwork(spec, { label }), spec)
}
