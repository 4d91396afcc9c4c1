/** Messages between the explain runner and its worker thread (plain data only). */
import type { BackboneSpecInput } from '../models/backbones'
import type { PositionMap } from './decompose'

/** Which trained model to explain: enough for the worker to load it itself. */
export interface ExplainModelSpec {
  /** Cache key (run id + checkpoint file): the worker keeps the last model loaded. */
  key: string
  backbone: BackboneSpecInput
  seed: number
  embeddingSize: number
  /** The checkpoint with `head` (and, after fine-tuning, `backbone`) sections. */
  checkpointPath: string
  modelsDir: string
}

/** Runner → worker. */
export type ExplainRequest =
  | { type: 'pair'; id: number; model: ExplainModelSpec; query: string; result: string }
  | { type: 'single'; id: number; model: ExplainModelSpec; image: string }

/** Worker → runner. */
export type ExplainReply =
  | { type: 'pair'; id: number; similarity: number; query: PositionMap; result: PositionMap }
  | { type: 'single'; id: number; map: PositionMap }
  | { type: 'error'; id: number; message: string }
