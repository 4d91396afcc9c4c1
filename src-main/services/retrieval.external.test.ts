/**
 * External queries end to end with a real run model (no stub): a small-cnn run whose checkpoint
 * holds a real embedding head, a gallery embedded by the runs module's own loadRunModel, and the
 * retrieval service loading the model itself. Kept apart from retrieval.test.ts because it
 * starts TensorFlow.js.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as tf from '@tensorflow/tfjs'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TrainConfig } from '../../src-preload/contract/runs'
import { initBackend } from '../ml/backend'
import { writeGallery } from '../ml/eval/gallery'
import { loadBackbone } from '../ml/models/backbones'
import { EmbeddingHead } from '../ml/models/head'
import { toPlain } from '../ml/train/model'
import { writeCheckpoint } from '../ml/train/checkpoints'
import { loadRunModel } from '../runs/inference'
import { galleryPath } from '../runs/paths'
import { closeContext, createContext, type AppContext } from '../app/context'
import { createRetrievalService, type RetrievalServiceImpl } from './retrieval'
import { atEdge, type AtEdge } from './services.testutil'

let dir: string
let ctx: AppContext
let svc: AtEdge<'retrieval', RetrievalServiceImpl>
let runId: number
const files: string[] = []
const imageIds: number[] = []
let tensorsBefore = 0
let leakPerLoad = 0

beforeAll(async () => {
  await initBackend()
  dir = mkdtempSync(join(tmpdir(), 'hist-retrieval-ext-'))
  ctx = createContext(dir, 'cli')
  const root = join(dir, 'images')
  mkdirSync(root)
  const db = ctx.db
  const datasetId = Number(
    db.prepare(`INSERT INTO datasets (name, root, format) VALUES ('shapes', ?, 'folder')`).run(root)
      .lastInsertRowid
  )
  // Six distinct 40×40 images: a bright square at a different place and colour in each.
  for (let i = 0; i < 6; i++) {
    const cls = i % 2
    const classId =
      (
        db
          .prepare('SELECT id FROM classes WHERE dataset_id = ? AND name = ?')
          .get(datasetId, `c${cls}`) as { id: number } | undefined
      )?.id ??
      Number(
        db
          .prepare(
            `INSERT INTO classes (dataset_id, name, ordinal, split) VALUES (?, ?, ?, 'test')`
          )
          .run(datasetId, `c${cls}`, cls + 1).lastInsertRowid
      )
    const px = Buffer.alloc(40 * 40 * 3, 20)
    for (let y = 0; y < 14; y++) {
      for (let x = 0; x < 14; x++) {
        const o = ((y + 4 * i) * 40 + x + 3 * i) * 3
        px[o + (i % 3)] = 250
        px[o + ((i + 1) % 3)] = 40 * i
      }
    }
    const rel = `c${cls}/img${i}.png`
    mkdirSync(join(root, `c${cls}`), { recursive: true })
    await sharp(px, { raw: { width: 40, height: 40, channels: 3 } })
      .png()
      .toFile(join(root, rel))
    files.push(join(root, rel))
    imageIds.push(
      Number(
        db
          .prepare(
            `INSERT INTO images (dataset_id, class_id, rel_path, size, mtime_ms, sha1) VALUES (?, ?, ?, 1, 0, 'x')`
          )
          .run(datasetId, classId, rel).lastInsertRowid
      )
    )
  }
  const config = TrainConfig.parse({
    datasetId,
    backbone: { kind: 'small-cnn', inputSize: 32 },
    embeddingSize: 16,
    seed: 3
  })
  const runDir = join(ctx.paths.runs, 'r1')
  runId = Number(
    db
      .prepare(
        `INSERT INTO runs (name, status, dataset_id, dataset_name, config, app_version, dir, best_checkpoint, finished_at)
         VALUES ('ext', 'completed', ?, 'shapes', ?, '0.1.0', ?, 'best.ckpt', '2025-01-01T00:00:00Z')`
      )
      .run(datasetId, JSON.stringify(config), runDir).lastInsertRowid
  )
  // The checkpoint: a real head; the backbone keeps its seeded initial weights.
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
  // The gallery, embedded the way the trainer does it.
  const before = tf.memory().numTensors
  const model = await loadRunModel(ctx, runId)
  const emb = await model.embed(files)
  model.dispose()
  // What one load/dispose cycle leaves behind outside this service: must be nothing.
  leakPerLoad = tf.memory().numTensors - before
  writeGallery(galleryPath(ctx, runId), emb, files.length, config.embeddingSize)
  const ins = db.prepare('INSERT INTO run_gallery (run_id, idx, image_id) VALUES (?, ?, ?)')
  imageIds.forEach((id, idx) => ins.run(runId, idx, id))
  tensorsBefore = tf.memory().numTensors
  svc = atEdge('retrieval', createRetrievalService(ctx))
})

afterAll(() => {
  svc?.dispose()
  closeContext(ctx)
  rmSync(dir, { recursive: true, force: true })
})

describe('retrieval.queryExternal with the run model', () => {
  it('finds the gallery image itself first when queried with its own file or bytes', async () => {
    for (const i of [0, 3, 5]) {
      const res = await svc.queryExternal({ runId, path: files[i], k: 3 })
      expect(res.neighbours[0].image.id).toBe(imageIds[i])
      expect(res.neighbours[0].similarity).toBeGreaterThan(0.999)
      expect(res.neighbours.length).toBe(3)
      expect(res.query).toBeNull()
      expect(res.ap).toBeNull()
    }
    const bytes = await sharp(files[2]).png().toBuffer()
    const res = await svc.queryExternal({ runId, dataBase64: bytes.toString('base64'), k: 1 })
    expect(res.neighbours[0].image.id).toBe(imageIds[2])
  })

  it('refuses an image bomb (16000×16000 PNG) with a 400 naming the pixel limit', async () => {
    const bomb = await sharp({
      create: { width: 16000, height: 16000, channels: 3, background: '#808080' }
    })
      .png({ compressionLevel: 9 })
      .toBuffer()
    const bombPath = join(dir, 'bomb.png')
    writeFileSync(bombPath, bomb)
    for (const q of [{ path: bombPath }, { dataBase64: bomb.toString('base64') }]) {
      const err = await svc.queryExternal({ runId, k: 1, ...q }).then(
        () => null,
        (e: unknown) => e as { code?: string; message: string }
      )
      expect(err?.code).toBe('invalid_payload')
      expect(err?.message).toMatch(/too large: image is 16000×16000 \(256 megapixels\)/)
      expect(err?.message).toMatch(/limit of 100 megapixels.*HIST_MAX_IMAGE_PIXELS/)
    }
  }, 120_000)

  it('frees the model tensors on dispose', async () => {
    const loaded = tf.memory().numTensors
    svc.dispose()
    await new Promise((r) => setTimeout(r, 0))
    // The service loaded the model once; disposing frees every tensor of it.
    expect(loaded - tf.memory().numTensors).toBeGreaterThan(4)
    expect(leakPerLoad).toBe(0)
    expect(tf.memory().numTensors).toBe(tensorsBefore)
    svc = atEdge('retrieval', createRetrievalService(ctx))
  })
})
