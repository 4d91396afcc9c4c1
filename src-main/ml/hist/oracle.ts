/** Reading the HIST oracle fixtures (numbers computed by the authors' PyTorch code). */
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

/** One fixture file: config, inputs, forward outputs and gradients of the total loss. */
export interface HistFixture {
  /** File name, for messages. */
  file: string
  /** Sizes and hyper-parameters. */
  config: {
    n: number
    nb_classes: number
    sz_embed: number
    hgnn_hidden: number
    tau: number
    alpha: number
    ls: number
  }
  /** Inputs in PyTorch layouts (Linear weights [out, in]). */
  inputs: Record<string, number[] | number[][]> & { T: number[] }
  /** Forward values. */
  outputs: {
    class_within_batch: number[]
    dist_loss: number
    H: number[][]
    G: number[][]
    logits: number[][]
    ce_loss: number
    loss: number
  }
  /** d loss / d input, for every input but T. */
  grads: Record<string, number[] | number[][]>
}

/** The fixture folder: HIST_ORACLE_DIR, else ../shared/fixtures/hist-oracle beside the repo root. */
export function histOracleDir(): string {
  const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')
  return process.env.HIST_ORACLE_DIR ?? path.resolve(repoRoot, '../shared/fixtures/hist-oracle')
}

/** Every *.json fixture in the folder, sorted by name. */
export function loadHistFixtures(dir = histOracleDir()): HistFixture[] {
  if (!fs.existsSync(dir)) return []
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map(
      (f) => ({ ...JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')), file: f }) as HistFixture
    )
}
