/**
 * Errors of the runs floor that a caller can act on; each carries the wire code its transport
 * answers with (dispatch maps `conflict` to HTTP 409).
 */

/** The call does not fit the current state (a dataset a run still needs, a run not failed). */
export class ConflictError extends Error {
  readonly code = 'conflict'
  constructor(message: string) {
    super(message)
    this.name = 'ConflictError'
  }
}
