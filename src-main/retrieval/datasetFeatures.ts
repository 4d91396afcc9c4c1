/**
 * A frozen run's train rows without decoding an image (see trainRowsFromFeatures): the head
 * applied to the backbone features the trainer cached in the features folder.
 */
import { readdirSync } from 'node:fs'
import type { AppContext } from '../app/context'
import { getDatasetItems } from '../datasets/queries'
import { evalTransform } from '../ml/train/transforms'
import { RunsRepo } from '../runs/repo'
import type { Rows } from './datasetEmbeddings'

const nextTick = (): Promise<void> => new Promise((r) => setImmediate(r))

/** Feature rows through the head per forward pass. */
const FEATURE_CHUNK = 512

/**
 * A frozen run's train rows without decoding an image: the trainer cached the pooled backbone
 * features of every image of the split (train and test, image-id order) in the features folder,
 * and the test gallery is the head applied to them; so are these rows. null when the run is not
 * frozen or that cache is missing or stale (the caller then embeds the images).
 */
export async function trainRowsFromFeatures(
  ctx: AppContext,
  runId: number,
  rows: Rows,
  dim: number,
  checkAbort: () => void,
  onRows: (done: number) => void
): Promise<Float32Array | null> {
  const config = new RunsRepo(ctx.db).get(runId).config
  if (!config.frozen) return null
  // No feature file of this dataset at all: skip loading the network twice.
  const prefix = `ds${config.datasetId}-`
  let names: string[] = []
  try {
    names = readdirSync(ctx.paths.features)
  } catch {
    return null
  }
  if (!names.some((f) => f.startsWith(prefix) && f.endsWith('.feat'))) return null
  const all = [
    ...getDatasetItems(ctx, config.datasetId, 'train', config.split),
    ...getDatasetItems(ctx, config.datasetId, 'test', config.split)
  ].sort((a, b) => a.imageId - b.imageId)
  const [{ loadRunNetwork }, cache, tf] = await Promise.all([
    import('../runs/inference'),
    import('../ml/data/featureCache'),
    import('@tensorflow/tfjs')
  ])
  let net
  try {
    net = await loadRunNetwork(ctx, runId)
  } catch {
    return null // the image path reports why the model cannot be loaded
  }
  const { backbone, head } = net
  try {
    if (net.config.embeddingSize !== dim) return null
    // The trainer's cache name and key (trainer/pipeline.ts frozenSource).
    const transform = evalTransform(config.backbone)
    const key = cache.featureKey(
      backbone,
      all.map((i) => ({ path: i.absPath })),
      transform
    )
    const file = cache.featureFilePath(
      ctx.paths.features,
      `ds${config.datasetId}-${backbone.name}-${transform}`,
      key
    )
    const feats = cache.readFeatureFile(file, key)
    const fd = backbone.featureChannels
    if (!feats || feats.dim !== fd || feats.features.length !== all.length * fd) return null
    const rowOf = new Map(all.map((it, r) => [it.imageId, r]))
    const out = new Float32Array(rows.nTrain * dim)
    for (let s = 0; s < rows.nTrain; s += FEATURE_CHUNK) {
      checkAbort()
      const e = Math.min(rows.nTrain, s + FEATURE_CHUNK)
      const src = new Float32Array((e - s) * fd)
      for (let r = s; r < e; r++) {
        const at = rowOf.get(rows.imageIds[r])
        if (at === undefined) return null
        src.set(feats.features.subarray(at * fd, (at + 1) * fd), (r - s) * fd)
      }
      const part = tf.tidy(() => head.apply(tf.tensor2d(src, [e - s, fd])))
      try {
        out.set(await part.data(), s * dim)
      } finally {
        part.dispose()
      }
      onRows(e)
      await nextTick()
    }
    return out
  } finally {
    head.dispose()
    backbone.dispose()
  }
}
