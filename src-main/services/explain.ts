/**
 * The explain service: similarity heat-maps of a query and a retrieved image, and one image's
 * activation map, for a run's selected checkpoint. The work runs in a worker thread (see
 * ml/explain/runner.ts); this side only resolves ids to files.
 */
import { join } from 'node:path'
import { NotFoundError } from '../../src-preload/contract/errors'
import type {
  ActivationMap,
  ExplainService,
  PositionMapDto
} from '../../src-preload/contract/explain'
import type { AppContext } from '../app/context'
import { resolveMedia } from '../datasets/media'
import type { PositionMap } from '../ml/explain/decompose'
import type { ExplainModelSpec } from '../ml/explain/protocol'
import { ExplainRunner } from '../ml/explain/runner'
import { RunsRepo } from '../runs/repo'

/** The service plus the shutdown of its worker. */
export interface ExplainServiceImpl extends ExplainService {
  dispose(): Promise<void>
}

const dto = (m: PositionMap): PositionMapDto => ({ h: m.h, w: m.w, values: Array.from(m.values) })

/** Builds the explain service over the app context (one worker, started on first use). */
export function createExplainService(ctx: AppContext): ExplainServiceImpl {
  const runs = new RunsRepo(ctx.db)
  const runner = new ExplainRunner()

  function modelOf(runId: number): ExplainModelSpec {
    const run = runs.get(runId)
    const st = runs.resumeState(runId)
    const file = st.bestCheckpoint ?? st.checkpoint
    if (!file || !st.dir)
      throw new NotFoundError(`run ${runId} has no saved model yet (no epoch has finished)`)
    return {
      key: `${runId}:${file}`,
      backbone: run.config.backbone,
      seed: run.config.seed,
      embeddingSize: run.config.embeddingSize,
      checkpointPath: join(st.dir, file),
      modelsDir: ctx.paths.models
    }
  }

  async function imageFile(id: number): Promise<string> {
    const r = await resolveMedia(ctx, `image/${id}`)
    if (!r.ok) throw new NotFoundError(`image ${id}: ${r.message}`)
    return r.filePath
  }

  return {
    async pair({ runId, queryImageId, resultImageId }) {
      const model = modelOf(runId)
      const [q, r] = await Promise.all([imageFile(queryImageId), imageFile(resultImageId)])
      const t0 = performance.now()
      const e = await runner.pair(model, q, r)
      return {
        runId,
        queryImageId,
        resultImageId,
        similarity: e.similarity,
        query: dto(e.query),
        result: dto(e.result),
        seconds: (performance.now() - t0) / 1000
      }
    },
    async single({ runId, imageId }): Promise<ActivationMap> {
      const model = modelOf(runId)
      const file = await imageFile(imageId)
      const t0 = performance.now()
      const map = await runner.single(model, file)
      return { runId, imageId, map: dto(map), seconds: (performance.now() - t0) / 1000 }
    },
    dispose: () => runner.close()
  }
}
