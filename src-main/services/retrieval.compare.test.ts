/** The retrieval service's run comparison, flipped queries and external queries. */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import { beforeAll, describe, expect, it } from 'vitest'
import { createRetrievalService } from './retrieval'
import { atEdge } from './services.testutil'
import {
  dir,
  ctx,
  svc,
  imageIds,
  loads,
  disposed,
  naiveQueries,
  runA,
  runB,
  runOtherDataset,
  runSubset,
  runQueued,
  galleryA,
  galleryB,
  reorder,
  useRetrievalFixture
} from './retrieval.testutil'

useRetrievalFixture()

describe('retrieval.compare', () => {
  it('lists every flattened config key with a differs flag, and the best metrics', async () => {
    const cmp = await svc.compare({ runIds: [runA, runB] })
    expect(cmp.runIds).toEqual([runA, runB])
    const row = (key: string) => cmp.configRows.find((r) => r.key === key)
    expect(row('loss')).toEqual({ key: 'loss', values: ['hist', 'triplet'], differs: true })
    expect(row('lr')).toEqual({ key: 'lr', values: [1e-4, 1e-4], differs: false })
    expect(row('backbone.kind')?.differs).toBe(true)
    // A key only one run has shows null for the other.
    expect(row('backbone.inputSize')).toEqual({
      key: 'backbone.inputSize',
      values: [null, 32],
      differs: true
    })
    expect(cmp.configRows.map((r) => r.key).slice(0, 2)).toEqual(['datasetId', 'loss'])
    // Test metrics win over best (model-selection) metrics; B has only the latter.
    expect(cmp.best[0]).toMatchObject({
      runId: runA,
      epoch: 2,
      recall: { '1': 0.7, '2': 0.9 },
      mapAtR: 0.4,
      rPrecision: 0.5,
      split: 'test'
    })
    // B's figures are validation ones: labelled so, never as test, and without test intervals.
    expect(cmp.best[1].recall['1']).toBe(0.6)
    expect(cmp.best[1].split).toBe('validation')
    expect(cmp.best[1].ci).toBeNull()
    const none = await svc.compare({ runIds: [runA, runQueued] })
    expect(none.best[1]).toMatchObject({
      runId: runQueued,
      epoch: null,
      recall: {},
      mapAtR: null,
      rPrecision: null,
      split: null,
      ci: null
    })
    await expect(svc.compare({ runIds: [runA, 424242] })).rejects.toMatchObject({
      code: 'not_found'
    })
  })
})

describe('retrieval.flipped', () => {
  it('returns the queries right in A and wrong in B, and the reverse', async () => {
    const a = new Map(naiveQueries(galleryA, imageIds).map((r) => [r.imageId, r.correctAt1]))
    const revIds = [...imageIds].reverse()
    const b = new Map(
      naiveQueries(reorder(galleryB, revIds), revIds).map((r) => [r.imageId, r.correctAt1])
    )
    const onlyA = [...a]
      .filter(([id, ok]) => ok && b.get(id) === false)
      .map(([id]) => id)
      .sort((x, y) => x - y)
    const onlyB = [...a]
      .filter(([id, ok]) => !ok && b.get(id) === true)
      .map(([id]) => id)
      .sort((x, y) => x - y)
    // The fixture must actually flip something, or this test could not fail.
    expect(onlyA.length + onlyB.length).toBeGreaterThan(0)
    const res = await svc.flipped({ runA, runB })
    expect(res.onlyA.map((i) => i.id)).toEqual(onlyA)
    expect(res.onlyB.map((i) => i.id)).toEqual(onlyB)
    const rev = await svc.flipped({ runA: runB, runB: runA })
    expect(rev.onlyA.map((i) => i.id)).toEqual(onlyB)
  })

  it('refuses runs on different datasets or test splits, saying why', async () => {
    await expect(svc.flipped({ runA, runB: runOtherDataset })).rejects.toThrow(
      /cannot be compared query by query: run \d+ was evaluated on "toy" and run \d+ on "toy"/
    )
    await expect(svc.flipped({ runA, runB: runSubset })).rejects.toThrow(
      /test splits differ \(1 test images only in run/
    )
    await expect(svc.flipped({ runA, runB: runQueued })).rejects.toThrow(
      /has not finished its test evaluation/
    )
  })
})

describe('retrieval.queryExternal', () => {
  let png: Buffer
  beforeAll(async () => {
    png = await sharp({
      create: { width: 8, height: 6, channels: 3, background: { r: 200, g: 10, b: 10 } }
    })
      .png()
      .toBuffer()
  })

  it('embeds a file or dropped bytes with the run model and searches the gallery', async () => {
    const file = join(dir, 'query.png')
    writeFileSync(file, png)
    const res = await svc.queryExternal({ runId: runA, path: file, k: 3 })
    expect(res.query).toBeNull()
    expect(res.ap).toBeNull()
    expect(res.missed).toEqual([])
    expect(res.neighbours[0].image.id).toBe(imageIds[5])
    expect(res.neighbours[0].similarity).toBeCloseTo(1, 5)
    expect(res.neighbours.every((n) => n.correct === false)).toBe(true)
    const viaB64 = await svc.queryExternal({
      runId: runA,
      dataBase64: `data:image/png;base64,${png.toString('base64')}`,
      k: 3
    })
    expect(viaB64.neighbours.map((n) => n.image.id)).toEqual(res.neighbours.map((n) => n.image.id))
    expect(loads).toEqual([runA])
  })

  it('keeps a small LRU of models and disposes the evicted one', async () => {
    const b64 = png.toString('base64')
    await svc.queryExternal({ runId: runB, dataBase64: b64, k: 1 })
    expect(disposed).toEqual([runA])
    await svc.queryExternal({ runId: runB, dataBase64: b64, k: 1 })
    expect(loads.filter((r) => r === runB).length).toBe(1)
  })

  it('reports a model that cannot be loaded as unavailable, naming the run', async () => {
    const failing = atEdge(
      'retrieval',
      createRetrievalService(ctx, {
        loadRunModel: () => Promise.reject(new Error('run has no saved model yet'))
      })
    )
    await expect(
      failing.queryExternal({ runId: runA, dataBase64: png.toString('base64') })
    ).rejects.toMatchObject({
      code: 'unavailable',
      message: expect.stringMatching(/model of run \d+ cannot be loaded .*no saved model yet/)
    })
    failing.dispose()
  })

  it('rejects what is not an image, with a clear message', async () => {
    const txt = join(dir, 'notes.png')
    writeFileSync(txt, 'hello, not a picture')
    await expect(svc.queryExternal({ runId: runA, path: txt })).rejects.toMatchObject({
      code: 'invalid_payload',
      message: expect.stringMatching(/notes\.png" is not an image/)
    })
    await expect(
      svc.queryExternal({ runId: runA, path: join(dir, 'nope.jpg') })
    ).rejects.toMatchObject({ code: 'not_found' })
    await expect(svc.queryExternal({ runId: runA, dataBase64: '!!!' })).rejects.toThrow(
      /not valid base64/
    )
    const truncated = png.subarray(0, Math.floor(png.length / 2)).toString('base64')
    // Bytes come from a chosen or a dropped file: the message must not claim it was dropped.
    await expect(svc.queryExternal({ runId: runA, dataBase64: truncated })).rejects.toThrow(
      /^(?!.*dropped image).*uploaded image/
    )
    await expect(
      svc.queryExternal({ runId: runQueued, dataBase64: png.toString('base64') })
    ).rejects.toThrow(/has not finished its test evaluation/)
  })
})
