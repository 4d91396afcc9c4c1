/**
 * A whole fine-tune run with gradient accumulation (micro-batches through the gradient cache),
 * in process, on 8 small Omniglot classes: it completes, says how it split the batch, and the
 * probe reports the same micro-batch.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TrainConfig } from '../../src-preload/contract/runs'
import { initBackend } from '../ml/backend'
import { probeRun, runTraining } from './pipeline'
import type { FromTrainer, JobItem, RunJob } from './protocol'

const here = dirname(fileURLToPath(import.meta.url))
const OMNIGLOT = resolve(here, '..', '..', '..', 'shared', 'datasets', 'omniglot-background-small')

let dir: string

function items(alphabet: string, from: number): JobItem[] {
  const classes = readdirSync(OMNIGLOT)
    .filter((c) => c.startsWith(`${alphabet}__`))
    .sort()
    .slice(0, 4)
  return classes.flatMap((c, ci) =>
    readdirSync(join(OMNIGLOT, c))
      .sort()
      .map((f, k) => ({
        imageId: from + ci * 100 + k,
        absPath: join(OMNIGLOT, c, f),
        classId: from + ci,
        className: c
      }))
  )
}

function job(): RunJob {
  return {
    runId: 1,
    runDir: dir,
    featuresDir: join(dir, 'features'),
    modelsDir: join(dir, 'models'),
    config: TrainConfig.parse({
      datasetId: 1,
      backbone: { kind: 'small-cnn', inputSize: 32 },
      frozen: false,
      bnFreeze: true,
      warm: 1,
      embeddingSize: 32,
      hgnnHidden: 16,
      batchSize: 16,
      microBatch: 6,
      epochs: 2,
      lr: 1e-3,
      modelSelection: 'test',
      seed: 5
    }),
    dataset: { id: 1, name: 'omniglot-8', format: 'folder' },
    train: items('Greek', 1000),
    test: items('Latin', 2000),
    ks: [1, 2, 4],
    checkpoint: null,
    hasBaseline: false
  }
}

const control = { signal: new AbortController().signal, pauseRequested: () => false }

beforeAll(async () => {
  await initBackend()
  dir = mkdtempSync(join(tmpdir(), 'hist-microbatch-'))
})
afterAll(() => {
  rmSync(dir, { recursive: true, force: true })
})

describe('a fine-tune run with gradient accumulation', () => {
  it('completes with test metrics, logs the micro-batches and frees its tensors', async () => {
    const sent: FromTrainer[] = []
    const before = tf.memory().numTensors
    await runTraining(job(), (m) => sent.push(m), control)
    expect(sent.find((m) => m.type === 'failed')).toBeUndefined()
    const result = sent.find((m) => m.type === 'result')
    expect(result?.type === 'result' && result.testMetrics.recall['1']).toBeGreaterThan(0)
    expect(sent.filter((m) => m.type === 'epoch')).toHaveLength(2)
    const logs = sent.flatMap((m) => (m.type === 'log' ? [m.message] : []))
    expect(logs.join('\n')).toMatch(/micro-batches of 6 \(as configured\).*exact gradient/)
    const steps = sent.flatMap((m) => (m.type === 'steps' ? m.steps : []))
    expect(steps.length).toBe(10) // 4 classes × 20 images, batches of 16, 2 epochs
    expect(steps.every((s) => Number.isFinite(s.loss))).toBe(true)
    expect(tf.memory().numTensors).toBe(before)
  })

  it('probes with the same micro-batch', async () => {
    const p = await probeRun(job(), control)
    expect(p.microBatch).toBe(6)
    expect(p.estimate.trainSec).toBeGreaterThan(0)
    expect(p.estimate.totalSec).toBeCloseTo(
      p.estimate.startupSec +
        p.estimate.featuresSec +
        p.estimate.baselineSec +
        p.estimate.trainSec +
        p.estimate.evalSec +
        p.estimate.refitSec,
      0
    )
  })
})
