/** TrainModel state through a checkpoint file, for losses with and without parameters. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TrainConfig, type LossName } from '../../../src-preload/contract/runs'
import { useBackend } from '../losses/losses.testutil'
import { readCheckpoint, writeCheckpoint } from './checkpoints'
import { TrainModel } from './model'

const dir = mkdtempSync(join(tmpdir(), 'hist-model-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

async function headWeight(m: TrainModel): Promise<number[][]> {
  const w = m.head.getWeights()
  try {
    return (await w['head/weight'].array()) as number[][]
  } finally {
    tf.dispose(Object.values(w))
  }
}

describe('TrainModel checkpoint round trip', () => {
  beforeAll(async () => {
    await useBackend('cpu')
  })

  for (const loss of ['multi-similarity', 'triplet', 'proxy-anchor'] as LossName[]) {
    it(`${loss}: a fresh model restores the written state (a parameter-free loss leaves no loss section on disk)`, async () => {
      const cfg = TrainConfig.parse({ datasetId: 1, loss, embeddingSize: 8, hgnnHidden: 8 })
      const opts = { backbone: null, inChannels: 4, numClasses: 3 }
      const saved = new TrainModel(cfg, opts)
      const file = join(dir, `${loss}.ckpt`)
      writeCheckpoint(file, { meta: {}, sections: (await saved.captureState()).sections })
      const want = await headWeight(saved)
      saved.dispose()
      const fresh = new TrainModel({ ...cfg, seed: 99 }, opts)
      try {
        expect(await headWeight(fresh)).not.toEqual(want)
        fresh.restoreState({ sections: readCheckpoint(file).sections, optimizerSteps: {} }, false)
        expect(await headWeight(fresh)).toEqual(want)
      } finally {
        fresh.dispose()
      }
    })
  }
})
