/**
 * Web mode: the same API contract over HTTP + WebSocket, on 127.0.0.1 only, guarded by a
 * random per-start token. See src-preload/contract/wire.ts for the protocol.
 */
import { randomBytes } from 'node:crypto'
import { readFile, stat } from 'node:fs/promises'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import { extname, join, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { WebSocketServer, type WebSocket } from 'ws'
import {
  toWireError,
  type AppEvent,
  type Services,
  type WireError
} from '../../src-preload/contract'
import {
  API_PREFIX,
  EVENTS_PATH,
  MEDIA_PREFIX,
  TOKEN_COOKIE
} from '../../src-preload/contract/wire'
import { dispatch } from '../dispatch'
import type { EventBus } from '../app/events'
import {
  cookieToken,
  headerToken,
  MIME,
  readBody,
  SECURITY_HEADERS,
  sendError,
  sendJson,
  tokenEquals
} from './http'
import type { MediaSource } from '../app/media'

/** The only interface web mode listens on. */
export const LOOPBACK = '127.0.0.1'

/** Default request body limit (dropped images arrive as base64 of up to 30 MB). */
export const DEFAULT_BODY_LIMIT = 40 * 1024 * 1024

/** The built renderer, relative to this file (src-main/server → out/renderer). */
export const DEFAULT_STATIC_DIR = join(
  fileURLToPath(new URL('.', import.meta.url)),
  '..',
  '..',
  'out',
  'renderer'
)

/** Options of `startServer`. */
export interface ServerOptions {
  /** The services to expose. */
  services: Services
  /** Event source streamed to `/events` sockets. */
  events: EventBus
  /** Folder of the built renderer (index.html + assets); null serves no pages. */
  staticDir?: string | null
  /** Resolves `/media/<path>`; without it media answers 503. */
  media?: MediaSource
  /**
   * Resolves `/download/<path>` (e.g. `model/<runId>.zip`) to a file to save; without it
   * downloads answer 503.
   */
  downloads?: DownloadSource
  /** TCP port; 0 (the default) picks a free one. */
  port?: number
  /** Fixed token (tests); by default 32 random bytes, hex. */
  token?: string
  /** Largest accepted request body in bytes. */
  maxBodyBytes?: number
  /**
   * Events sent to each socket as soon as it connects (e.g. the backend report, which a page
   * that connects after the probe finished would otherwise never see).
   */
  initialEvents?: () => AppEvent[]
}

/** A running web-mode server. */
export interface RunningServer {
  /** The URL to open, with the token: http://127.0.0.1:<port>/?token=<token>. */
  url: string
  /** http://127.0.0.1:<port> */
  origin: string
  token: string
  port: number
  /** The underlying HTTP server (its address() is 127.0.0.1). */
  server: Server
  /** Stops accepting, closes sockets and connections. */
  close(): Promise<void>
}

function unauthorized(message = 'missing or wrong token'): WireError {
  return { message, code: 'unauthorized' }
}

function sendPlain(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'Content-Type': 'text/plain; charset=utf-8',
    'Cache-Control': 'no-store'
  })
  res.end(text)
}

/** A file the browser saves (Content-Disposition: attachment). */
export interface DownloadReply {
  filename: string
  contentType: string
  body: Buffer
}

/** Resolves a download path; throws NotFoundError & co. (mapped to HTTP statuses). */
export type DownloadSource = (path: string) => Promise<DownloadReply>

/** URL prefix of downloads. */
export const DOWNLOAD_PREFIX = '/download/'

/** Starts web mode on 127.0.0.1. Resolves once it listens. */
export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const token = opts.token ?? randomBytes(32).toString('hex')
  const limit = opts.maxBodyBytes ?? DEFAULT_BODY_LIMIT
  const staticDir = opts.staticDir === undefined ? DEFAULT_STATIC_DIR : opts.staticDir
  let port = opts.port ?? 0
  const ownOrigins = (): string[] => [`http://${LOOPBACK}:${port}`, `http://localhost:${port}`]
  const ownHosts = (): string[] => [`${LOOPBACK}:${port}`, `localhost:${port}`]

  /** Refuses a Host other than our own (DNS rebinding). */
  const hostOk = (req: IncomingMessage): boolean =>
    ownHosts().includes(String(req.headers.host ?? ''))

  const authorised = (req: IncomingMessage, queryToken: string | null): boolean =>
    tokenEquals(headerToken(req), token) ||
    tokenEquals(cookieToken(req, ownOrigins()), token) ||
    tokenEquals(queryToken, token)

  async function handleApi(
    req: IncomingMessage,
    res: ServerResponse,
    channel: string
  ): Promise<void> {
    if (req.method !== 'POST') {
      sendJson(res, 405, { error: { message: 'use POST', code: 'not_found' } }, { Allow: 'POST' })
      return
    }
    let raw: Buffer
    try {
      raw = await readBody(req, limit)
    } catch (err) {
      // Close the connection: the client may still be uploading the rest of the body.
      sendError(res, toWireError(err), { Connection: 'close' })
      req.resume()
      return
    }
    let payload: unknown = undefined
    const text = raw.toString('utf8').trim()
    if (text) {
      try {
        payload = JSON.parse(text)
      } catch {
        sendError(res, {
          message: `${channel}: request body is not valid JSON`,
          code: 'invalid_payload',
          issues: []
        })
        return
      }
    }
    const reply = await dispatch(opts.services, channel, payload)
    if ('error' in reply) sendError(res, reply.error)
    else sendJson(res, 200, reply)
  }

  async function handleMedia(res: ServerResponse, path: string): Promise<void> {
    if (!opts.media) {
      sendError(res, { message: 'media is not available yet', code: 'unavailable' })
      return
    }
    try {
      const m = await opts.media(path)
      res.writeHead(m.status, {
        ...SECURITY_HEADERS,
        'Content-Type': m.contentType,
        'Cache-Control': m.status === 200 ? 'private, max-age=3600' : 'no-store',
        ...(m.headers ?? {})
      })
      res.end(m.body)
    } catch (err) {
      const e = toWireError(err)
      sendError(res, e)
    }
  }

  async function handleDownload(res: ServerResponse, path: string): Promise<void> {
    if (!opts.downloads) {
      sendError(res, { message: 'downloads are not available', code: 'unavailable' })
      return
    }
    const d = await opts.downloads(path)
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'Content-Type': d.contentType,
      'Content-Length': d.body.length,
      'Content-Disposition': `attachment; filename="${d.filename.replace(/[^\w.-]/g, '_')}"`,
      'Cache-Control': 'no-store'
    })
    res.end(d.body)
  }

  async function serveFile(
    res: ServerResponse,
    file: string,
    extra: Record<string, string> = {}
  ): Promise<boolean> {
    try {
      const s = await stat(file)
      if (!s.isFile()) return false
      const body = await readFile(file)
      const type = MIME[extname(file).toLowerCase()] ?? 'application/octet-stream'
      const isHtml = type.startsWith('text/html')
      res.writeHead(200, {
        ...SECURITY_HEADERS,
        'Content-Type': type,
        'Content-Length': body.length,
        // Hashed assets can be cached; the page itself must not (it is behind the token).
        'Cache-Control': isHtml ? 'no-store' : 'private, max-age=300',
        ...extra
      })
      res.end(body)
      return true
    } catch {
      return false
    }
  }

  async function handleStatic(
    res: ServerResponse,
    pathname: string,
    setCookie: boolean
  ): Promise<void> {
    if (!staticDir) {
      sendPlain(res, 404, 'no renderer build to serve')
      return
    }
    const root = resolve(staticDir)
    const extra: Record<string, string> = setCookie
      ? { 'Set-Cookie': `${TOKEN_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/` }
      : {}
    const index = join(root, 'index.html')
    if (pathname === '/' || pathname === '/index.html') {
      if (!(await serveFile(res, index, extra))) {
        sendPlain(res, 503, 'The renderer is not built. Run `npm run build` (or `npm run serve`).')
      }
      return
    }
    const file = resolve(root, '.' + pathname)
    if (file !== root && !file.startsWith(root + sep)) {
      sendPlain(res, 404, 'not found')
      return
    }
    if (await serveFile(res, file, extra)) return
    // History-mode routes (no file extension) get the app page; a missing asset is a 404.
    if (!extname(pathname) && (await serveFile(res, index, extra))) return
    sendPlain(res, 404, 'not found')
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!hostOk(req)) {
      sendError(res, unauthorized('unexpected Host header'))
      return
    }
    // A browser names the page that sent a request: a foreign page is refused whatever
    // credentials it carries (a leaked token must not let another site drive the API).
    const origin = req.headers.origin
    if (origin !== undefined && !ownOrigins().includes(origin)) {
      sendError(res, unauthorized('cross-origin requests are refused'))
      return
    }
    const url = new URL(req.url ?? '/', `http://${LOOPBACK}:${port}`)
    let pathname: string
    try {
      pathname = decodeURIComponent(url.pathname)
    } catch {
      sendPlain(res, 400, 'bad URL encoding')
      return
    }
    if (pathname.includes('\0')) {
      sendPlain(res, 400, 'bad path')
      return
    }
    const isPage = pathname === '/' || pathname === '/index.html'
    const queryToken = isPage ? url.searchParams.get('token') : null
    if (!authorised(req, queryToken)) {
      if (
        pathname.startsWith(API_PREFIX) ||
        pathname.startsWith(MEDIA_PREFIX) ||
        pathname.startsWith(DOWNLOAD_PREFIX)
      )
        sendError(res, unauthorized())
      else
        sendPlain(
          res,
          401,
          'Unauthorized: open the URL (with its token) that `hist serve` printed.'
        )
      return
    }
    if (pathname.startsWith(API_PREFIX)) {
      await handleApi(req, res, pathname.slice(API_PREFIX.length))
      return
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendPlain(res, 405, 'method not allowed')
      return
    }
    if (pathname.startsWith(MEDIA_PREFIX)) {
      // The resolver gets the path still encoded and decodes each segment once itself.
      await handleMedia(res, url.pathname.slice(MEDIA_PREFIX.length))
      return
    }
    if (pathname.startsWith(DOWNLOAD_PREFIX)) {
      await handleDownload(res, pathname.slice(DOWNLOAD_PREFIX.length))
      return
    }
    await handleStatic(res, pathname, tokenEquals(queryToken, token))
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const error = toWireError(err)
      if (error.code === 'internal') console.error('web mode: request failed', err)
      if (!res.headersSent) sendError(res, error)
      else res.destroy()
    })
  })

  // Events: one JSON AppEvent per message; clients never send anything.
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4096 })
  const sockets = new Set<WebSocket>()
  const unsubscribe = opts.events.on((event) => {
    const text = JSON.stringify(event)
    for (const ws of sockets) if (ws.readyState === ws.OPEN) ws.send(text)
  })

  function refuseUpgrade(socket: Duplex, status: number, text: string): void {
    socket.write(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
    socket.destroy()
  }

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', `http://${LOOPBACK}:${port}`)
    if (url.pathname !== EVENTS_PATH) return refuseUpgrade(socket, 404, 'Not Found')
    if (!hostOk(req)) return refuseUpgrade(socket, 401, 'Unauthorized')
    // Browsers send Origin on every WebSocket handshake: a foreign page is refused even with a token.
    const origin = req.headers.origin
    if (origin !== undefined && !ownOrigins().includes(origin))
      return refuseUpgrade(socket, 401, 'Unauthorized')
    if (!authorised(req, url.searchParams.get('token')))
      return refuseUpgrade(socket, 401, 'Unauthorized')
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws)
      ws.on('close', () => sockets.delete(ws))
      ws.on('error', () => sockets.delete(ws))
      ws.on('message', () => ws.close(1003, 'this socket only sends'))
      for (const event of opts.initialEvents?.() ?? []) ws.send(JSON.stringify(event))
    })
  })

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject)
    server.listen(port, LOOPBACK, () => {
      server.off('error', reject)
      resolveListen()
    })
  })
  port = (server.address() as AddressInfo).port
  const origin = `http://${LOOPBACK}:${port}`

  let closed: Promise<void> | null = null
  return {
    url: `${origin}/?token=${token}`,
    origin,
    token,
    port,
    server,
    close() {
      closed ??= new Promise<void>((done) => {
        unsubscribe()
        for (const ws of sockets) ws.terminate()
        wss.close()
        server.close(() => done())
        server.closeAllConnections()
      })
      return closed
    }
  }
}
