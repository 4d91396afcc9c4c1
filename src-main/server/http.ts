/**
 * Small HTTP helpers of web mode: security headers, token checks, body reading, MIME types.
 * Kept apart from the routing so that each rule can be tested on its own.
 */
import { timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { AppError, type ErrorCode, type WireError } from '../../src-preload/contract/errors'
import { TOKEN_COOKIE, TOKEN_HEADER } from '../../src-preload/contract/wire'
import { CONTENT_SECURITY_POLICY } from '../app/csp'

/** Security headers sent with every web-mode response. */
export const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin'
}

/** MIME types of the files a Vite build emits. */
export const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.bmp': 'image/bmp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.otf': 'font/otf',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8'
}

/** Compares two tokens in constant time (length leaks, which is fine for a fixed-size token). */
export function tokenEquals(given: string | null | undefined, expected: string): boolean {
  if (typeof given !== 'string') return false
  const a = Buffer.from(given)
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}

/** Reads one cookie from a Cookie header. */
export function readCookie(header: string | undefined, name: string): string | null {
  if (!header) return null
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq < 0) continue
    if (part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim())
  }
  return null
}

/** The token a request carries in a header (Authorization: Bearer, or x-hist-token). */
export function headerToken(req: IncomingMessage): string | null {
  const auth = req.headers.authorization
  if (auth && /^Bearer\s+/i.test(auth)) return auth.replace(/^Bearer\s+/i, '').trim()
  const h = req.headers[TOKEN_HEADER]
  return typeof h === 'string' ? h : null
}

/**
 * The session cookie's token, but only when the request is not cross-origin: cookies are
 * shared by every port of 127.0.0.1, so another local page could otherwise ride on them.
 */
export function cookieToken(req: IncomingMessage, ownOrigins: string[]): string | null {
  const origin = req.headers.origin
  if (origin !== undefined && !ownOrigins.includes(origin)) return null
  const site = req.headers['sec-fetch-site']
  if (site === 'cross-site' || site === 'same-site') return null
  return readCookie(req.headers.cookie, TOKEN_COOKIE)
}

/** The one mapping of error codes to HTTP statuses (the IPC transport sends the code itself). */
export const STATUS_OF: Record<ErrorCode, number> = {
  invalid_payload: 400,
  unauthorized: 401,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  internal: 500,
  unavailable: 503
}

/** Thrown by `readBody` when the body exceeds the limit. */
export class BodyTooLargeError extends AppError {
  constructor(limit: number) {
    super(`request body is larger than ${Math.round(limit / 1024 / 1024)} MB`, 'too_large')
    this.name = 'BodyTooLargeError'
  }
}

/** Reads a request body up to `limit` bytes; rejects early on a too-large Content-Length. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'])
    if (Number.isFinite(declared) && declared > limit) {
      reject(new BodyTooLargeError(limit))
      return
    }
    const chunks: Buffer[] = []
    let size = 0
    let failed = false
    req.on('data', (chunk: Buffer) => {
      if (failed) return
      size += chunk.length
      if (size > limit) {
        failed = true
        chunks.length = 0
        reject(new BodyTooLargeError(limit))
        return
      }
      chunks.push(chunk)
    })
    req.on('end', () => {
      if (!failed) resolve(Buffer.concat(chunks))
    })
    req.on('error', (err) => {
      if (!failed) reject(err)
    })
  })
}

/** Sends a JSON body with the security headers. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  extra: Record<string, string> = {}
): void {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    ...extra
  })
  res.end(text)
}

/** Sends `{ error }` with the status that matches its code. */
export function sendError(
  res: ServerResponse,
  error: WireError,
  extra: Record<string, string> = {}
): void {
  sendJson(res, STATUS_OF[error.code], { error }, extra)
}
