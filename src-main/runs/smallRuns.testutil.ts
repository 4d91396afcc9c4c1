/**
 * Test helpers for runs with real trainer processes: a small real dataset (16 Omniglot
 * characters of two alphabets, 20 images each, copied into a temporary folder) and a tiny
 * config (frozen small-CNN features, 32-d embeddings) that trains an epoch in about a second.
 */
import { spawn } from 'node:child_process'
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { TrainConfigInput } from '../../src-preload/contract/runs'

const here = dirname(fileURLToPath(import.meta.url))
/** The repository root (the worktree). */
export const REPO_ROOT = resolve(here, '..', '..')
const OMNIGLOT = resolve(REPO_ROOT, '..', 'shared', 'datasets', 'omniglot-background-small')

/** Copies 8 characters each of Greek and Latin (20 images each) into a folder-per-class dataset. */
export function makeSmallDataset(to: string): void {
  const classes = readdirSync(OMNIGLOT)
    .filter((c) => /^(Greek|Latin)__/.test(c))
    .sort()
  const pick = [
    ...classes.filter((c) => c.startsWith('Greek')).slice(0, 8),
    ...classes.filter((c) => c.startsWith('Latin')).slice(0, 8)
  ]
  for (const c of pick) {
    mkdirSync(join(to, c), { recursive: true })
    for (const f of readdirSync(join(OMNIGLOT, c)))
      copyFileSync(join(OMNIGLOT, c, f), join(to, c, f))
  }
}

/** A run config that trains in seconds: Greek trains, Latin tests, frozen small-CNN features. */
export function smallConfig(
  datasetId: number,
  over: Partial<TrainConfigInput> = {}
): TrainConfigInput {
  return {
    datasetId,
    split: { kind: 'group', train: ['Greek'], test: ['Latin'] },
    backbone: { kind: 'small-cnn', inputSize: 32 },
    frozen: true,
    embeddingSize: 32,
    hgnnHidden: 16,
    batchSize: 16,
    epochs: 4,
    lr: 1e-3,
    valRatio: 0.25,
    seed: 7,
    ...over
  }
}

/** What a finished `hist` child process left. */
export interface HistExit {
  code: number | null
  signal: NodeJS.Signals | null
  out: string
  err: string
}

/**
 * Runs the real `hist` bin (src-main/bin/hist.mjs) in a child process on `dataDir`. `onOutput`
 * sees stdout + stderr so far each time more arrives and may kill the process.
 */
export function spawnHist(
  dataDir: string,
  args: string[],
  onOutput?: (text: string, kill: (s: NodeJS.Signals) => void, pid: number) => void
): Promise<HistExit> {
  return new Promise((resolve) => {
    const cp = spawn(process.execPath, [join(REPO_ROOT, 'src-main/bin/hist.mjs'), ...args], {
      env: { ...process.env, HIST_DATA_DIR: dataDir, HIST_VERBOSE: '' },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let out = ''
    let err = ''
    const seen = (): void => onOutput?.(out + err, (s) => cp.kill(s), cp.pid!)
    cp.stdout.on('data', (c) => {
      out += String(c)
      seen()
    })
    cp.stderr.on('data', (c) => {
      err += String(c)
      seen()
    })
    cp.on('exit', (code, signal) => resolve({ code, signal, out, err }))
  })
}
