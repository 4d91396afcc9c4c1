import type { FieldIssue, WireError } from '../../../src-preload/contract'

export type { FieldIssue }

/** Error of an API call, carrying the wire error code and per-field issues for forms. */
export class ApiError extends Error {
  /** Machine-readable cause; 'network' when the server could not be reached at all. */
  readonly code: WireError['code'] | 'network'
  /** Field issues for an invalid payload (empty otherwise). */
  readonly issues: FieldIssue[]
  /** HTTP status (0 for network failures and Electron IPC). */
  readonly status: number

  constructor(
    message: string,
    code: WireError['code'] | 'network',
    issues: FieldIssue[] = [],
    status = 0
  ) {
    super(message)
    this.name = 'ApiError'
    this.code = code
    this.issues = issues
    this.status = status
  }

  /** The error of a failed call from its reply envelope: the same over IPC and HTTP. */
  static fromWire(error: WireError, status = 0): ApiError {
    return new ApiError(error.message, error.code ?? 'internal', error.issues ?? [], status)
  }
}

/** Turns anything thrown by an API call into a sentence for the user. */
export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.code === 'network') return err.message
    if (err.code === 'unauthorized')
      return 'The session has expired. Reopen HIST Studio from the link printed by `hist serve`.'
    return sentence(stripChannel(err.message))
  }
  if (err instanceof Error) return sentence(stripChannel(err.message))
  return sentence(String(err))
}

/** Backend messages start in lower case ("no such file…"); shown alone they read as sentences. */
function sentence(text: string): string {
  return text ? text[0].toUpperCase() + text.slice(1) : text
}

/**
 * Electron wraps IPC errors as "Error invoking remote method 'x.y': Error: msg"; the channel
 * prefix means nothing to a user, so it is dropped.
 */
function stripChannel(message: string): string {
  return message.replace(/^Error invoking remote method '[^']*': (\w*Error: )?/, '')
}

/** Field issues of an error (empty when it has none). */
export function errorIssues(err: unknown): FieldIssue[] {
  if (err instanceof ApiError) return err.issues
  const maybe = err as { issues?: unknown }
  if (maybe && Array.isArray(maybe.issues)) return maybe.issues as FieldIssue[]
  return []
}
