/**
 * A checkpoint written on webgpu resumes on wasm, and one written on wasm resumes on webgpu:
 * the checkpoint file (weights and Adam state) restores exactly, and the next step after the
 * resume gives the same loss on either backend (within the parity tolerance of
 * webgpu.parity.test.ts). The model is the HIST head with its HGNN, with a small-CNN backbone
 * being fine-tuned, so that backbone weights and their optimiser state cross backends too.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { afterAll, describe, expect, it } from 'vitest'
import { TrainConfig } from '../../../src-preload/contract/runs'
import type { BackendName } from '../../../src-preload/contract/system'
import { loadBackbone } from '../models/backbones'
import { readCheckpoint, writeCheckpoint } from '../train/checkpoints'
import { TrainModel, type ModelState } from '../train/model'
import { trainStep } from '../train/step'
import { initBackend } from '.'
import { webgpuTestEnv } from './webgpuEnv.testutil'

const skip = webgpuTestEnv()
if (skip) console.warn(`webgpu checkpoint tests skipped: ${skip}`)
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hist-webgpu-ckpt-'))
const LOSS_RTOL = 1e-3

afterAll(async () => {
  fs.rmSync(tmp, { recursive: true, force: true })
  await initBackend({ only: ['wasm'] })
})

const cfg = TrainConfig.parse({
  datasetId: 1,
  loss: 'hist',
  frozen: false,
  warm: 0,
  embeddingSize: 16,
  hgnnHidden: 8,
  lr: 1e-3,
  seed: 9,
  backbone: { kind: 'small-cnn', inputSize: 16 }
})
const labels = [0, 0, 1, 1, 2, 2]

/** Builds the model on the active backend, optionally from a state; runs `steps` steps. */
async function train(
  steps: number,
  from: ModelState | null
): Promise<{ losses: number[]; state: ModelState }> {
  const backbone = await loadBackbone(cfg.backbone, { modelsDir: '/nonexistent', seed: cfg.seed })
  const model = new TrainModel(cfg, {
    backbone,
    inChannels: backbone.featureChannels,
    numClasses: 3
  })
  const x = tf.randomUniform([6, 16, 16, 3], 0, 1, 'float32', 21)
  const y = tf.tensor1d(labels, 'int32')
  try {
    if (from) model.restoreState(from)
    const losses: number[] = []
    for (let i = 0; i < steps; i++)
      losses.push((await trainStep(model, x, y, model.trainableVariables(0), i)).loss)
    return { losses, state: await model.captureState() }
  } finally {
    tf.dispose([x, y])
    model.dispose()
    backbone.dispose()
  }
}

function flat(state: ModelState): number[] {
  return Object.values(state.sections).flatMap((arrs) => arrs.flatMap((a) => Array.from(a.data)))
}

async function crossResume(writer: BackendName, reader: BackendName): Promise<void> {
  await initBackend({ only: [writer] })
  const first = await train(2, null)
  const file = path.join(tmp, `${writer}-to-${reader}.ckpt`)
  writeCheckpoint(file, {
    meta: { optimizerSteps: first.state.optimizerSteps },
    sections: first.state.sections
  })
  const ck = readCheckpoint<{ optimizerSteps: Record<string, number> }>(file)
  const saved: ModelState = { sections: ck.sections, optimizerSteps: ck.meta.optimizerSteps }
  // The resumed step on the writer's backend is the reference.
  const same = await train(1, saved)
  await initBackend({ only: [reader] })
  const before = tf.memory().numTensors
  // Restoring and capturing again without a step gives back the checkpoint exactly.
  const restored = await train(0, saved)
  expect(flat(restored.state)).toEqual(flat(saved))
  expect(restored.state.optimizerSteps).toEqual(saved.optimizerSteps)
  const other = await train(1, saved)
  expect(tf.memory().numTensors).toBe(before)
  expect(Number.isFinite(other.losses[0])).toBe(true)
  expect(Math.abs(other.losses[0] - same.losses[0])).toBeLessThanOrEqual(
    LOSS_RTOL * Math.max(1, Math.abs(same.losses[0]))
  )
}

describe.skipIf(skip !== null)('checkpoints across backends', () => {
  it('written on webgpu, resumed on wasm', async () => {
    await crossResume('webgpu', 'wasm')
  }, 900_000)

  it('written on wasm, resumed on webgpu', async () => {
    await crossResume('wasm', 'webgpu')
  }, 900_000)
})
