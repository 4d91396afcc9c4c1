/**
 * Choosing where a run resumes when its last checkpoint is damaged (a kill mid-write, a disk
 * error): the newest older checkpoint that still verifies (the previous one, kept until its
 * successor was verified, or the best one), else the start. The owner checks before it starts a
 * trainer, so a damaged file never fails a run that can go on.
 */
import { join } from 'node:path'
import { verifyCheckpoint } from '../ml/train/checkpoints'
import type { CheckpointMeta } from '../trainer/checkpointing'
import type { RunResumeState } from './repo'

/** Where to resume from after a damaged last checkpoint. */
export interface Fallback {
  /** Why the last checkpoint cannot be used (names the file and the problem). */
  problem: string
  /** The older checkpoint to resume from, or null to start over. */
  checkpoint: string | null
  meta: CheckpointMeta | null
}

function tryVerify(dir: string, name: string): CheckpointMeta | null {
  try {
    return verifyCheckpoint<CheckpointMeta>(join(dir, name))
  } catch {
    return null
  }
}

/** Null when the run's last checkpoint verifies (or it has none); else where to fall back to. */
export function findFallback(st: RunResumeState): Fallback | null {
  if (!st.checkpoint || !st.dir) return null
  try {
    verifyCheckpoint(join(st.dir, st.checkpoint))
    return null
  } catch (err) {
    const problem = (err as Error).message
    const candidates = [st.prevCheckpoint, st.bestCheckpoint].filter(
      (c): c is string => !!c && c !== st.checkpoint
    )
    let chosen: { checkpoint: string; meta: CheckpointMeta } | null = null
    for (const c of candidates) {
      const meta = tryVerify(st.dir, c)
      if (meta && (!chosen || meta.position.step > chosen.meta.position.step))
        chosen = { checkpoint: c, meta }
    }
    return { problem, checkpoint: chosen?.checkpoint ?? null, meta: chosen?.meta ?? null }
  }
}
