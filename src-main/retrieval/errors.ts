/**
 * Errors of the retrieval service. `code` follows the wire protocol's WireError codes so that
 * both transports can map them to a status without parsing messages.
 */
export type RetrievalErrorCode = 'not_found' | 'invalid_payload' | 'unavailable'

/** A failure a user can act on: the message says what is wrong in words for a user. */
export class RetrievalError extends Error {
  constructor(
    message: string,
    readonly code: RetrievalErrorCode
  ) {
    super(message)
    this.name = 'RetrievalError'
  }
}

/** An unknown run, an image that is not in a run's gallery, and the like. */
export function notFound(message: string): RetrievalError {
  return new RetrievalError(message, 'not_found')
}

/** A request that cannot be served as asked (not an image, runs that cannot be compared). */
export function invalid(message: string): RetrievalError {
  return new RetrievalError(message, 'invalid_payload')
}

/** Data the request needs does not exist yet (a run with no test evaluation). */
export function unavailable(message: string): RetrievalError {
  return new RetrievalError(message, 'unavailable')
}
