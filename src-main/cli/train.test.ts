/**
 * `hist train` as a user runs it: the real bin in a child process, a real trainer, and its exit
 * code (0 completed, 1 failed run, 2 usage/validation, 130 Ctrl-C) with one-line errors.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { closeContext, createContext } from '../app/context'
import { importDataset } from '../datasets/importer'
import { makeSmallDataset, spawnHist } from '../runs/smallRuns.testutil'

let dir: string
let dataDir: string
let datasetId: number

/** Runs `hist` on the test's data folder; `onErr` sees the output so far and may kill it. */
function hist(args: string[], onErr?: (text: string, kill: (s: NodeJS.Signals) => void) => void) {
  return spawnHist(dataDir, args, onErr)
}

const tiny = ['--backbone', 'small-cnn', '--frozen', '--model-selection', 'test']

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hist-cli-train-'))
  dataDir = join(dir, 'data')
  makeSmallDataset(join(dir, 'omni'))
  const ctx = createContext(dataDir, 'cli')
  try {
    const res = await importDataset(ctx, { path: join(dir, 'omni'), format: 'folder' })
    datasetId = res.dataset.id
  } finally {
    closeContext(ctx)
  }
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('hist train exit codes', () => {
  it('lists the exit codes in --help', async () => {
    const r = await hist(['--help'])
    expect(r.code).toBe(0)
    expect(r.out).toMatch(/Exit codes:[\s\S]*130/)
  })

  it('exits 1 with a one-line error (no stack trace) when the run fails', async () => {
    // More images per batch than the training split has: the trainer refuses the job.
    const r = await hist(['train', '--dataset', String(datasetId), ...tiny, '--batch-size', '1024'])
    expect(r.code, r.err).toBe(1)
    expect(r.out).toMatch(/failed/)
    expect(r.err).toMatch(/fewer than one batch/)
    // No JavaScript stack frame (native libraries may print their own diagnostics).
    expect(r.err).not.toMatch(/\n\s+at .*\.m?[jt]s:\d+/)
  })

  it('exits 2 for an unknown dataset id and for a bad option', async () => {
    const unknown = await hist(['train', '--dataset', '9999', ...tiny])
    expect(unknown.code).toBe(2)
    expect(unknown.err.trim().split('\n')).toHaveLength(1)
    const bad = await hist(['train', '--dataset', String(datasetId), '--epochs', 'x'])
    expect(bad.code).toBe(2)
  })

  it('exits 2 for a bad --micro-batch, and for one the config refuses', async () => {
    const word = await hist(['train', '--dataset', String(datasetId), '--micro-batch', 'half'])
    expect(word.code).toBe(2)
    expect(word.err).toMatch(/--micro-batch must be "auto" or an integer/)
    const big = await hist([
      'train',
      '--dataset',
      String(datasetId),
      ...tiny,
      '--batch-size',
      '16',
      '--micro-batch',
      '32'
    ])
    expect(big.code).toBe(2)
    expect(big.err).toMatch(/microBatch.*at most the batch size \(16\)/)
  })

  it('exits 2 with one line, queueing nothing, when balanced batches cannot be filled', async () => {
    // 8 training classes; 'val' carves 2, leaving 6, but 32 images at 4 per class need 8.
    const args = ['train', '--dataset', String(datasetId), '--backbone', 'small-cnn', '--frozen']
    const r = await hist([
      ...args,
      ...['--loss', 'triplet', '--sampler', 'balanced', '--batch-size', '32', '--ipc', '4'],
      ...['--model-selection', 'val']
    ])
    expect(r.code, r.err).toBe(2)
    expect(r.err.trim().split('\n')).toHaveLength(1)
    expect(r.err).toMatch(/batchSize: .*need 8 classes, but training has only 6/)
    expect(r.out).not.toMatch(/queued|Run \d+/i)
    const sampler = await hist([...args, '--sampler', 'hard'])
    expect(sampler.code).toBe(2)
    expect(sampler.err).toMatch(/--sampler must be random or balanced/)
  })

  it('exits 130 when cancelled with Ctrl-C', async () => {
    let sent = false
    const r = await hist(
      ['train', '--dataset', String(datasetId), ...tiny, '--epochs', '200'],
      (err, kill) => {
        if (!sent && /epoch 1:/.test(err)) {
          sent = true
          kill('SIGINT')
        }
      }
    )
    expect(sent).toBe(true)
    expect(r.code, r.err).toBe(130)
    expect(r.out).toMatch(/cancelled/)
  })
})
