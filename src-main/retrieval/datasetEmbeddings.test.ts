/**
 * Whole-dataset embeddings with a real run model: rows, values, the cache in the run folder and
 * its invalidation, progress, cancellation, batches and tensor hygiene.
 */
import { existsSync, rmSync, utimesSync } from 'node:fs'
import { join } from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { closeContext } from '../app/context'
import { CancelledError } from '../app/jobs'
import { loadRunModel } from '../runs/inference'
import { galleryPath } from '../runs/paths'
import {
  DATA_FILE,
  loadDatasetEmbeddings,
  META_FILE,
  TEST,
  TRAIN,
  type DatasetEmbeddingsOptions
} from './datasetEmbeddings'
import { makeEmbeddingFixture, type EmbeddingFixture } from './datasetEmbeddings.testutil'
import { readGalleryFile, runDirOf } from './galleryIo'

let f: EmbeddingFixture
let loads = 0
let batches: number[] = []
/** The real loader, counting loads and batch sizes. */
const loadModel: DatasetEmbeddingsOptions['loadModel'] = async (ctx, runId) => {
  loads++
  const m = await loadRunModel(ctx, runId)
  return {
    dim: m.dim,
    embed: (inputs) => {
      batches.push(inputs.length)
      return m.embed(inputs)
    },
    dispose: () => m.dispose()
  }
}
const dropCache = (): void => {
  rmSync(join(runDirOf(f.ctx, f.runId), META_FILE), { force: true })
  rmSync(join(runDirOf(f.ctx, f.runId), DATA_FILE), { force: true })
}

beforeAll(async () => {
  f = await makeEmbeddingFixture()
}, 120_000)

afterAll(() => {
  closeContext(f.ctx)
  rmSync(f.dir, { recursive: true, force: true })
})

describe('loadDatasetEmbeddings', () => {
  it('embeds the train images with the run model and reuses the test gallery rows', async () => {
    const before = tf.memory().numTensors
    loads = 0
    batches = []
    const progress: [number, number][] = []
    const e = await loadDatasetEmbeddings(f.ctx, f.runId, {
      loadModel,
      batchSize: 4,
      onProgress: (d, t) => progress.push([d, t])
    })
    expect(tf.memory().numTensors).toBe(before)
    expect(loads).toBe(1)
    // 9 train images in batches of at most 4.
    expect(batches).toEqual([4, 4, 1])
    expect(e.runId).toBe(f.runId)
    expect(e.dim).toBe(f.dim)
    expect([...e.imageIds]).toEqual([...f.train, ...f.test].map((r) => r.imageId))
    expect([...e.classIds]).toEqual([...f.train, ...f.test].map((r) => r.classId))
    expect([...e.split]).toEqual([...f.train.map(() => TRAIN), ...f.test.map(() => TEST)])
    expect(e.data.length).toBe(18 * f.dim)
    // Test rows: the gallery file's rows.
    const g = readGalleryFile(galleryPath(f.ctx, f.runId))
    const testRows = e.data.subarray(9 * f.dim)
    for (let i = 0; i < g.data.length; i++) expect(testRows[i]).toBeCloseTo(g.data[i], 6)
    // Train rows: what the run model gives for the files, L2-normalised.
    const m = await loadRunModel(f.ctx, f.runId)
    const ref = await m.embed(f.train.map((t) => t.file))
    m.dispose()
    for (let i = 0; i < ref.length; i++) expect(e.data[i]).toBeCloseTo(ref[i], 5)
    for (let r = 0; r < 18; r++) {
      let ss = 0
      for (let c = 0; c < f.dim; c++) ss += e.data[r * f.dim + c] ** 2
      expect(Math.sqrt(ss)).toBeCloseTo(1, 5)
    }
    // Progress: test rows first (read, not embedded), then each batch, ending at the total.
    expect(progress).toEqual([
      [9, 18],
      [13, 18],
      [17, 18],
      [18, 18]
    ])
    expect(tf.memory().numTensors).toBe(before)
  }, 120_000)

  it('reads the cache in the run folder on a second call (no model load)', async () => {
    loads = 0
    const first = await loadDatasetEmbeddings(f.ctx, f.runId, { loadModel })
    expect(existsSync(join(runDirOf(f.ctx, f.runId), DATA_FILE))).toBe(true)
    const progress: [number, number][] = []
    const again = await loadDatasetEmbeddings(f.ctx, f.runId, {
      loadModel,
      onProgress: (d, t) => progress.push([d, t])
    })
    expect(loads).toBe(0)
    expect(again.data).toEqual(first.data)
    expect(progress).toEqual([[18, 18]])
  })

  it('embeds again when the run was evaluated again (finish time or gallery file changed)', async () => {
    await loadDatasetEmbeddings(f.ctx, f.runId, { loadModel })
    loads = 0
    f.ctx.db
      .prepare('UPDATE runs SET finished_at = ? WHERE id = ?')
      .run('2026-02-02T00:00:00Z', f.runId)
    await loadDatasetEmbeddings(f.ctx, f.runId, { loadModel })
    expect(loads).toBe(1)
    const file = galleryPath(f.ctx, f.runId)
    utimesSync(file, new Date(), new Date(Date.now() + 5000))
    await loadDatasetEmbeddings(f.ctx, f.runId, { loadModel })
    expect(loads).toBe(2)
    await loadDatasetEmbeddings(f.ctx, f.runId, { loadModel })
    expect(loads).toBe(2)
  }, 120_000)

  it('treats a damaged cache file as missing and embeds again', async () => {
    await loadDatasetEmbeddings(f.ctx, f.runId, { loadModel })
    rmSync(join(runDirOf(f.ctx, f.runId), DATA_FILE))
    loads = 0
    const e = await loadDatasetEmbeddings(f.ctx, f.runId, { loadModel })
    expect(loads).toBe(1)
    expect(e.imageIds.length).toBe(18)
  }, 120_000)

  it('stops between batches when aborted, disposes the model and caches nothing', async () => {
    dropCache()
    const before = tf.memory().numTensors
    const abort = new AbortController()
    const err = await loadDatasetEmbeddings(f.ctx, f.runId, {
      loadModel,
      batchSize: 2,
      signal: abort.signal,
      onProgress: (d) => {
        if (d > 9) abort.abort()
      }
    }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(CancelledError)
    expect(tf.memory().numTensors).toBe(before)
    expect(existsSync(join(runDirOf(f.ctx, f.runId), META_FILE))).toBe(false)
  }, 120_000)

  it('shares one embedding between concurrent callers; one caller aborting does not stop the other', async () => {
    dropCache()
    loads = 0
    const before = tf.memory().numTensors
    const seenA: number[] = []
    const seenB: number[] = []
    const [a, b] = await Promise.all([
      loadDatasetEmbeddings(f.ctx, f.runId, {
        loadModel,
        batchSize: 2,
        onProgress: (d) => seenA.push(d)
      }),
      loadDatasetEmbeddings(f.ctx, f.runId, {
        loadModel,
        batchSize: 2,
        onProgress: (d) => seenB.push(d)
      })
    ])
    expect(loads).toBe(1)
    expect(b.data).toEqual(a.data)
    expect(seenA.at(-1)).toBe(18)
    expect(seenB.at(-1)).toBe(18)

    dropCache()
    loads = 0
    const quitter = new AbortController()
    const first = loadDatasetEmbeddings(f.ctx, f.runId, {
      loadModel,
      batchSize: 2,
      signal: quitter.signal,
      onProgress: (d) => {
        if (d > 9) quitter.abort()
      }
    }).catch((e: unknown) => e)
    const second = loadDatasetEmbeddings(f.ctx, f.runId, { loadModel, batchSize: 2 })
    expect(await first).toBeInstanceOf(CancelledError)
    expect((await second).imageIds.length).toBe(18)
    expect(loads).toBe(1)
    expect(existsSync(join(runDirOf(f.ctx, f.runId), META_FILE))).toBe(true)
    expect(tf.memory().numTensors).toBe(before)
  }, 120_000)

  it('says clearly why a run cannot be embedded', async () => {
    await expect(loadDatasetEmbeddings(f.ctx, 9999)).rejects.toMatchObject({
      code: 'not_found',
      message: expect.stringMatching(/no run with id 9999/)
    })
    const fresh = Number(
      f.ctx.db
        .prepare(
          `INSERT INTO runs (name, status, dataset_id, dataset_name, config, app_version)
           VALUES ('fresh', 'running', ?, 'squares', ?, '0.1.0')`
        )
        .run(f.datasetId, JSON.stringify({ datasetId: f.datasetId })).lastInsertRowid
    )
    await expect(loadDatasetEmbeddings(f.ctx, fresh)).rejects.toMatchObject({
      code: 'unavailable',
      message: expect.stringMatching(/has no test evaluation yet/)
    })
    dropCache()
    const broken: DatasetEmbeddingsOptions['loadModel'] = async () => {
      throw new Error('checkpoint unreadable')
    }
    await expect(
      loadDatasetEmbeddings(f.ctx, f.runId, { loadModel: broken })
    ).rejects.toMatchObject({
      code: 'unavailable',
      message: expect.stringMatching(/model of run \d+ cannot be loaded: checkpoint unreadable/)
    })
  })
})
