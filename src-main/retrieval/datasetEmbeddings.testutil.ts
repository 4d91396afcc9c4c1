/**
 * A small real run for whole-dataset embedding tests: 3 train and 3 test classes of 3 generated
 * 40×40 images each, a small-cnn run whose checkpoint holds a real embedding head, and a test
 * gallery embedded with the runs module's own loadRunModel (as the trainer does).
 */
import { mkdirSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import sharp from 'sharp'
import { TrainConfig } from '../../src-preload/contract/runs'
import { createContext, type AppContext } from '../app/context'
import { initBackend } from '../ml/backend'
import { writeGallery } from '../ml/eval/gallery'
import { loadBackbone } from '../ml/models/backbones'
import { EmbeddingHead } from '../ml/models/head'
import { writeCheckpoint } from '../ml/train/checkpoints'
import { toPlain } from '../ml/train/model'
import { loadRunModel } from '../runs/inference'
import { galleryPath } from '../runs/paths'

/** What makeEmbeddingFixture built. */
export interface EmbeddingFixture {
  dir: string
  ctx: AppContext
  datasetId: number
  runId: number
  /** Train images in dataset order (class, then path). */
  train: { imageId: number; classId: number; file: string }[]
  /** Test images in gallery row order. */
  test: { imageId: number; classId: number; file: string }[]
  dim: number
}

/** Per class: a bright square of the class colour, shifted per image. */
async function writeImage(file: string, cls: number, i: number): Promise<void> {
  const px = Buffer.alloc(40 * 40 * 3, 20)
  for (let y = 0; y < 12; y++) {
    for (let x = 0; x < 12; x++) {
      const o = ((y + 5 * i + 2) * 40 + x + 4 * cls + 1) * 3
      px[o + (cls % 3)] = 250
      px[o + ((cls + 1) % 3)] = 35 * cls
    }
  }
  await sharp(px, { raw: { width: 40, height: 40, channels: 3 } })
    .png()
    .toFile(file)
}

/** Builds the data folder, dataset, run, checkpoint and test gallery (starts TensorFlow.js). */
export async function makeEmbeddingFixture(): Promise<EmbeddingFixture> {
  await initBackend()
  const dir = mkdtempSync(join(tmpdir(), 'hist-dsemb-'))
  const ctx = createContext(dir, 'cli')
  const root = join(dir, 'images')
  const db = ctx.db
  const datasetId = Number(
    db
      .prepare(`INSERT INTO datasets (name, root, format) VALUES ('squares', ?, 'folder')`)
      .run(root).lastInsertRowid
  )
  const train: EmbeddingFixture['train'] = []
  const test: EmbeddingFixture['test'] = []
  for (let cls = 0; cls < 6; cls++) {
    const side = cls < 3 ? 'train' : 'test'
    const name = `${side}_${cls}`
    const classId = Number(
      db
        .prepare(
          'INSERT INTO classes (dataset_id, name, ordinal, preset_split, split) VALUES (?, ?, ?, ?, ?)'
        )
        .run(datasetId, name, cls + 1, side, side).lastInsertRowid
    )
    mkdirSync(join(root, name), { recursive: true })
    for (let i = 0; i < 3; i++) {
      const rel = `${name}/img${i}.png`
      const file = join(root, rel)
      await writeImage(file, cls, i)
      const imageId = Number(
        db
          .prepare(
            `INSERT INTO images (dataset_id, class_id, rel_path, size, mtime_ms, sha1) VALUES (?, ?, ?, 1, 0, 'x')`
          )
          .run(datasetId, classId, rel).lastInsertRowid
      )
      ;(side === 'train' ? train : test).push({ imageId, classId, file })
    }
  }
  const config = TrainConfig.parse({
    datasetId,
    backbone: { kind: 'small-cnn', inputSize: 32 },
    embeddingSize: 8,
    seed: 3
  })
  const runDir = join(ctx.paths.runs, 'r1')
  const runId = Number(
    db
      .prepare(
        `INSERT INTO runs (name, status, dataset_id, dataset_name, config, app_version, dir, best_checkpoint, finished_at)
         VALUES ('squares run', 'completed', ?, 'squares', ?, '0.1.0', ?, 'best.ckpt', '2026-01-01T00:00:00Z')`
      )
      .run(datasetId, JSON.stringify(config), runDir).lastInsertRowid
  )
  const backbone = await loadBackbone(config.backbone, {
    modelsDir: ctx.paths.models,
    seed: config.seed
  })
  const head = new EmbeddingHead(backbone.featureChannels, config.embeddingSize, 11)
  writeCheckpoint(join(runDir, 'best.ckpt'), {
    meta: {},
    sections: { head: await toPlain(head.getWeights()) }
  })
  head.dispose()
  backbone.dispose()
  const model = await loadRunModel(ctx, runId)
  const emb = await model.embed(test.map((t) => t.file))
  model.dispose()
  writeGallery(galleryPath(ctx, runId), emb, test.length, config.embeddingSize)
  const ins = db.prepare('INSERT INTO run_gallery (run_id, idx, image_id) VALUES (?, ?, ?)')
  test.forEach((t, idx) => ins.run(runId, idx, t.imageId))
  return { dir, ctx, datasetId, runId, train, test, dim: config.embeddingSize }
}
