/** The whole-dataset embedding map over a real small run (real loadDatasetEmbeddings and model). */
import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mapPathAt } from '../../src-preload/contract/retrieval'
import { closeContext } from '../app/context'
import { CancelledError } from '../app/jobs'
import {
  makeEmbeddingFixture,
  type EmbeddingFixture
} from '../retrieval/datasetEmbeddings.testutil'
import { createRetrievalService, type RetrievalServiceImpl } from './retrieval'
import { atEdge, type AtEdge } from './services.testutil'

let f: EmbeddingFixture
let svc: AtEdge<'retrieval', RetrievalServiceImpl>

beforeAll(async () => {
  f = await makeEmbeddingFixture()
  svc = atEdge('retrieval', createRetrievalService(f.ctx))
}, 120_000)
afterAll(() => {
  svc.dispose()
  closeContext(f.ctx)
})

describe('retrieval.embeddingMap of the whole dataset (real run)', () => {
  it('maps every train and test image with its split and path, without leaking tensors', async () => {
    const before = tf.memory().numTensors
    const map = await svc.embeddingMap({ runId: f.runId, scope: 'dataset' })
    const all = [...f.train, ...f.test]
    expect(map.imageIds).toEqual(all.map((r) => r.imageId))
    expect(map.classIds).toEqual(all.map((r) => r.classId))
    expect(map.split).toEqual([...f.train.map(() => 0), ...f.test.map(() => 1)])
    // Train images are no queries; every test image with classmates is one.
    expect(map.hit.slice(0, f.train.length).every((h) => h === -1)).toBe(true)
    expect(map.hit.slice(f.train.length).every((h) => h === 0 || h === 1)).toBe(true)
    map.imageIds.forEach((_, i) => expect(all[i].file.endsWith(mapPathAt(map, i))).toBe(true))
    expect(tf.memory().numTensors).toBe(before)
  }, 120_000)

  it('turns a cancelled embedding into a clear conflict, not an internal error', async () => {
    const cancelling = atEdge(
      'retrieval',
      createRetrievalService(f.ctx, {
        loadDatasetEmbeddings: async () => {
          throw new CancelledError()
        }
      })
    )
    try {
      await expect(
        cancelling.embeddingMap({ runId: f.runId, scope: 'dataset', method: 'umap' })
      ).rejects.toMatchObject({ code: 'conflict', message: expect.stringMatching(/was cancelled/) })
    } finally {
      cancelling.dispose()
    }
  })
})
