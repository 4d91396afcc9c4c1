/**
 * The one error module of HIST Studio. Every domain throws these (never a class of its own
 * carrying a code); the dispatch turns any of them into a plain `WireError` for both transports,
 * web mode maps the code to an HTTP status in one place (src-main/server/http.ts), and the
 * renderer raises them back from the reply envelope. Lives in the contract because the renderer
 * and the preload need the codes too; imports nothing.
 *
 * - `NotFoundError`    an id or file the caller named does not exist            → 404
 * - `InvalidError`     the request is wrong; `issues` name the fields           → 400
 * - `ConflictError`    the request clashes with the current state (run active)  → 409
 * - `UnavailableError` what the request needs does not exist yet / is off       → 503
 * Anything else thrown is a bug: code `internal` (500), logged with its stack.
 */

/** Every code a failed call can carry, over both transports. */
export const ERROR_CODES = [
  'invalid_payload',
  'unauthorized',
  'not_found',
  'conflict',
  'too_large',
  'unavailable',
  'internal'
] as const
export type ErrorCode = (typeof ERROR_CODES)[number]

/** One field-level problem; `path` is dotted (e.g. `split.trainRatio`, `backbone.modelPath`). */
export interface FieldIssue {
  path: string
  message: string
}

/** The error body of a failed call, over both transports. */
export interface WireError {
  message: string
  code: ErrorCode
  issues?: FieldIssue[]
}

/** Base of every expected error: a message for a user, a code, and field issues (maybe none). */
export class AppError extends Error {
  readonly code: ErrorCode
  readonly issues: FieldIssue[]
  constructor(message: string, code: ErrorCode, issues: FieldIssue[] = []) {
    super(message)
    this.name = 'AppError'
    this.code = code
    this.issues = issues
  }
}

/** An id, file or entity the caller named does not exist (404). */
export class NotFoundError extends AppError {
  constructor(message: string) {
    super(message, 'not_found')
    this.name = 'NotFoundError'
  }
}

/**
 * The request is wrong (400). Pass the field issues when a field is to blame; `invalidField`
 * builds the common one-field case.
 */
export class InvalidError extends AppError {
  constructor(message: string, issues: FieldIssue[] = []) {
    super(message, 'invalid_payload', issues)
    this.name = 'InvalidError'
  }
}

/** The request clashes with the current state, e.g. removing a dataset a run trains on (409). */
export class ConflictError extends AppError {
  constructor(message: string) {
    super(message, 'conflict')
    this.name = 'ConflictError'
  }
}

/** What the request needs does not exist yet or is switched off (503). */
export class UnavailableError extends AppError {
  constructor(message: string) {
    super(message, 'unavailable')
    this.name = 'UnavailableError'
  }
}

/** An InvalidError naming one field: message `<path>: <problem>`, issue `{ path, problem }`. */
export function invalidField(path: string, problem: string): InvalidError {
  return new InvalidError(`${path}: ${problem}`, [{ path, message: problem }])
}

function isErrorCode(code: unknown): code is ErrorCode {
  return (ERROR_CODES as readonly unknown[]).includes(code)
}

/**
 * Turns anything thrown into a plain, cloneable WireError. An AppError (or any object with a
 * known `code`, e.g. one rebuilt on the other side of a process boundary) keeps its code and
 * issues; everything else is `internal`.
 */
export function toWireError(err: unknown): WireError {
  const e = err as { message?: unknown; code?: unknown; issues?: unknown } | null
  const message =
    err instanceof Error ? err.message : typeof e?.message === 'string' ? e.message : String(err)
  const code = isErrorCode(e?.code) ? e.code : 'internal'
  const out: WireError = { message, code }
  if (Array.isArray(e?.issues) && e.issues.length) {
    out.issues = (e.issues as { path?: unknown; message?: unknown }[]).map((i) => ({
      path: String(i.path ?? ''),
      message: String(i.message ?? '')
    }))
  }
  return out
}

/** True for an error a user caused or can act on (logged without a stack trace). */
export function isExpectedError(err: unknown): boolean {
  return toWireError(err).code !== 'internal'
}

/** Rebuilds the typed error from a WireError (the reverse of `toWireError`). */
export function fromWireError(wire: WireError): AppError {
  const issues = wire.issues ?? []
  switch (wire.code) {
    case 'not_found':
      return new NotFoundError(wire.message)
    case 'invalid_payload':
      return new InvalidError(wire.message, issues)
    case 'conflict':
      return new ConflictError(wire.message)
    case 'unavailable':
      return new UnavailableError(wire.message)
    default:
      return new AppError(wire.message, isErrorCode(wire.code) ? wire.code : 'internal', issues)
  }
}
