import type { Command } from 'commander'
import { registerAudit } from './audit'
import { registerDatasetCommands } from './datasets'
import { registerServe } from './serve'
import { registerExperiments } from './sweep'
import { registerSystem } from './system'
import { registerTrain } from './train'

/** Every command module; each adds its commands to the program. */
export function registerCommands(program: Command): void {
  registerServe(program)
  registerDatasetCommands(program)
  registerTrain(program)
  registerSystem(program)
  registerExperiments(program)
  registerAudit(program)
}
