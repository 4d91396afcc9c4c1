/**
 * The floors of the backend are guarded by lint (eslint.config.js, FLOORS): a planted upward
 * import fails `npm run lint`. Each case lints a file's text as if it lived at `filePath`.
 */
import { ESLint } from 'eslint'
import { describe, expect, it } from 'vitest'

const eslint = new ESLint({ cwd: process.cwd() })

/** The messages of `no-restricted-imports` for `code` placed at `filePath`. */
async function layerErrors(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath })
  return result.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message)
}

describe('lint: imports go only downward', () => {
  const upward: [string, string][] = [
    ['src-main/ml/train/planted.ts', "import { createContext } from '../../app/context'"],
    ['src-main/ml/planted.ts', "import type { AppContext } from '../app/context'"],
    ['src-main/ml/eval/planted.ts', "export { datasetsRepo } from '../../datasets/repo'"],
    ['src-main/app/planted.ts', "import { listDatasets } from '../datasets/queries'"],
    ['src-main/db/planted.ts', "import { createServices } from '../services'"],
    ['src-main/datasets/formats/planted.ts', "import { RunQueue } from '../../runs/queue'"],
    ['src-main/trainer/planted.ts', "import { GALLERY_FILE } from '../runs/paths'"],
    ['src-main/runs/planted.ts', "import { openGallery } from '../retrieval/galleries'"],
    ['src-main/retrieval/planted.ts', "import { createRunsService } from '../services/runs'"],
    ['src-main/retrieval/planted.ts', "import { auditEmbeddings } from '../audit'"],
    ['src-main/audit/planted.ts', "import { createAuditService } from '../services/audit'"],
    ['src-main/services/planted.ts', "import { dispatch } from '../dispatch'"],
    ['src-main/dispatch/planted.ts', "import { startServer } from '../server'"],
    ['src-main/server/planted.ts', "import { main } from '../cli/main'"],
    ['src-main/ml/losses/planted.ts', "import { HistLoss } from '../hist/histLoss'"],
    ['src-preload/contract/planted.ts', "import { readFileSync } from 'node:fs'"],
    ['src-preload/contract/planted.ts', "import { Id } from '../../src-main/ml/util/rng'"],
    ['src-main/ml/models/planted.ts', "import { app } from 'electron'"],
    ['src-renderer/src/planted.ts', "import { createServices } from '../../src-main/services'"]
  ]
  it.each(upward)('refuses in %s: %s', async (filePath, code) => {
    const errors = await layerErrors(filePath, `${code}\n`)
    expect(errors).toHaveLength(1)
  })

  const downward: [string, string][] = [
    [
      'src-main/ml/train/planted.ts',
      "import { LossName } from '../../../src-preload/contract/runs'"
    ],
    ['src-main/ml/hist/planted.ts', "import { BaseMetricLoss } from '../losses/base'"],
    ['src-main/datasets/planted.ts', "import type { AppContext } from '../app/context'"],
    ['src-main/runs/planted.ts', "import type { FromTrainer } from '../trainer/protocol'"],
    ['src-main/services/planted.ts', "import { RunQueue } from '../runs/queue'"],
    ['src-main/audit/planted.ts', "import { knn } from '../ml/eval/knn'"],
    ['src-main/services/planted.ts', "import { auditEmbeddings } from '../audit'"],
    ['src-main/server/planted.ts', "import { dispatch } from '../dispatch'"],
    ['src-main/shell/planted.ts', "import { ipcMain } from 'electron'"],
    ['src-main/cli/planted.ts', "import { startServer } from '../server'"],
    ['src-preload/contract/planted.ts', "import { z } from 'zod'\nimport { Id } from './common'"]
  ]
  it.each(downward)('allows in %s: %s', async (filePath, code) => {
    expect(await layerErrors(filePath, `${code}\n`)).toEqual([])
  })
})
