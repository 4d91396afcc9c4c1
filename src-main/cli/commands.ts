import type { Command } from 'commander'

/** Every command module; each adds its commands to the program. */
export function registerCommands(program: Command): void {
  void program
}
