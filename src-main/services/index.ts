import type { Services } from '../../src-preload/contract'
import type { AppContext } from './context'

/** Builds every service over one app context; both transports and the CLI use this. */
export function createServices(ctx: AppContext): Services {
  void ctx
  throw new Error('services are wired by the foundation work')
}
