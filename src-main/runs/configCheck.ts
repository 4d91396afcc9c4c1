/**
 * Checks of a training config that need more than its schema: the files and catalogue entries
 * it names. Run before a run is queued or probed, so that a wrong request is answered 400 with
 * the field named, not discovered later by the trainer.
 */
import { accessSync, constants, statSync } from 'node:fs'
import { invalidField } from '../../src-preload/contract/errors'
import type { TrainConfig } from '../../src-preload/contract/runs'
import { findDownloadable } from '../ml/models/download'

/** Throws InvalidError naming `backbone.modelPath` or `backbone.name` when it cannot be used. */
export function checkBackbone(config: Pick<TrainConfig, 'backbone'>): void {
  const b = config.backbone
  if (b.kind === 'download') {
    findDownloadable(b.name) // InvalidError listing the known names
  } else if (b.kind === 'local') {
    let problem: string | null = null
    try {
      if (!statSync(b.modelPath).isFile()) problem = `${b.modelPath} is not a file`
      else accessSync(b.modelPath, constants.R_OK)
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      problem =
        code === 'ENOENT'
          ? `${b.modelPath} does not exist`
          : `${b.modelPath} cannot be read (${code ?? 'error'})`
    }
    if (problem) throw invalidField('backbone.modelPath', problem)
  }
}
