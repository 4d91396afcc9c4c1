import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { connect } from 'node:net'
import { networkInterfaces, tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { WebSocket } from 'ws'
import type { Services } from '../../src-preload/contract'
import { EventBus } from '../app/events'
import { BAD_PAYLOADS, spyOf, spyServices } from '../dispatch/badPayloads.testutil'
import { dispatch } from '../dispatch'
import { stubService } from '../services/services.testutil'
import { DEFAULT_BODY_LIMIT, startServer, type RunningServer } from './index'

interface Reply {
  status: number
  headers: Record<string, string | string[] | undefined>
  text: string
  json: () => {
    result?: unknown
    error?: { message: string; code: string; issues?: { path: string }[] }
  }
}

let server: RunningServer
let staticDir: string
const events = new EventBus()
const media = vi.fn(async (path: string) => ({
  status: 200,
  contentType: 'image/png',
  body: new Uint8Array([1, 2, 3]),
  path
}))
const services = {
  system: {
    status: vi.fn(async () => ({ appVersion: '9', mode: 'web', dataDir: '/tmp/x', backend: null })),
    pickFolder: vi.fn(async () => null),
    pickImage: vi.fn(async () => null)
  },
  datasets: {
    ...stubService('datasets'),
    get: vi.fn(async () => ({ id: 1 })),
    remove: vi.fn(async () => undefined)
  },
  runs: { ...stubService('runs'), start: vi.fn(async () => ({ id: 1 })) },
  retrieval: {
    ...stubService('retrieval'),
    queryExternal: vi.fn(async () => ({ neighbours: [] }))
  }
} as unknown as Services & {
  datasets: { get: ReturnType<typeof vi.fn> }
  runs: { start: ReturnType<typeof vi.fn> }
  retrieval: { queryExternal: ReturnType<typeof vi.fn> }
}

function request(
  method: string,
  path: string,
  opts: { headers?: Record<string, string>; body?: string | Buffer } = {}
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port: server.port, method, path, headers: opts.headers },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8')
          resolve({
            status: res.statusCode!,
            headers: res.headers,
            text,
            json: () => JSON.parse(text)
          })
        })
      }
    )
    req.on('error', reject)
    if (opts.body !== undefined) req.write(opts.body)
    req.end()
  })
}

const auth = (): Record<string, string> => ({ authorization: `Bearer ${server.token}` })
const cookie = (): Record<string, string> => ({ cookie: `hist_token=${server.token}` })

function openSocket(path: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}${path}`, { headers })
    ws.once('open', () => resolve(ws))
    ws.once('error', reject)
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)))
  })
}

beforeAll(async () => {
  staticDir = mkdtempSync(join(tmpdir(), 'hist-static-'))
  mkdirSync(join(staticDir, 'assets'))
  writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>HIST</title>')
  writeFileSync(join(staticDir, 'assets', 'app.js'), 'console.log(1)')
  writeFileSync(join(staticDir, 'assets', 'app.css'), 'body{}')
  writeFileSync(join(tmpdir(), 'hist-secret.txt'), 'secret')
  server = await startServer({ services, events, staticDir, media, maxBodyBytes: 64 * 1024 })
})

afterAll(async () => {
  await server.close()
  rmSync(staticDir, { recursive: true, force: true })
})

beforeEach(() => {
  vi.clearAllMocks()
})

describe('web mode: loopback', () => {
  it('listens on 127.0.0.1 only', () => {
    const addr = server.server.address()
    expect(addr).toMatchObject({ address: '127.0.0.1', family: 'IPv4' })
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/?token=${server.token}`)
    expect(server.token).toMatch(/^[0-9a-f]{64}$/)
  })

  it('is not reachable through the other interfaces of this machine', async () => {
    const others = Object.values(networkInterfaces())
      .flat()
      .filter((i) => i && !i.internal)
      .map((i) => i!.address)
    for (const address of others) {
      const outcome = await new Promise<string>((resolve) => {
        const s = connect({ host: address, port: server.port, timeout: 2000 })
        s.once('connect', () => {
          s.destroy()
          resolve('connected')
        })
        s.once('timeout', () => {
          s.destroy()
          resolve('timeout')
        })
        s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'))
      })
      expect(outcome, `reachable via ${address}`).not.toBe('connected')
    }
  })

  it('uses a fresh random token per start', async () => {
    const other = await startServer({ services, events, staticDir: null })
    try {
      expect(other.token).not.toBe(server.token)
    } finally {
      await other.close()
    }
  })
})

describe('web mode: token', () => {
  it('rejects API calls without the token or with a wrong one (401) and never calls the service', async () => {
    const none = await request('POST', '/api/system.status', { body: '{}' })
    expect(none.status).toBe(401)
    expect(none.json().error?.code).toBe('unauthorized')
    const wrong = await request('POST', '/api/system.status', {
      body: '{}',
      headers: { authorization: 'Bearer nope' }
    })
    expect(wrong.status).toBe(401)
    const wrongHeader = await request('POST', '/api/system.status', {
      body: '{}',
      headers: { 'x-hist-token': 'x'.repeat(64) }
    })
    expect(wrongHeader.status).toBe(401)
    const wrongCookie = await request('POST', '/api/system.status', {
      body: '{}',
      headers: { cookie: 'hist_token=nope' }
    })
    expect(wrongCookie.status).toBe(401)
    expect(services.system.status).not.toHaveBeenCalled()
  })

  it('accepts the token as Bearer, x-hist-token or same-origin cookie', async () => {
    for (const headers of [
      auth(),
      { 'x-hist-token': server.token },
      { ...cookie(), origin: server.origin }
    ]) {
      const res = await request('POST', '/api/system.status', { body: '', headers })
      expect(res.status).toBe(200)
      expect(res.json()).toEqual({
        result: { appVersion: '9', mode: 'web', dataDir: '/tmp/x', backend: null }
      })
    }
  })

  it('refuses a foreign Origin even with a valid Bearer or x-hist-token (as the README says)', async () => {
    for (const origin of ['http://evil.example', 'http://127.0.0.1:1', 'null']) {
      for (const headers of [auth(), { 'x-hist-token': server.token }]) {
        const res = await request('POST', '/api/system.status', {
          body: '',
          headers: { ...headers, origin }
        })
        expect(res.status).toBe(401)
        expect(res.json().error).toEqual({
          code: 'unauthorized',
          message: 'cross-origin requests are refused'
        })
        const media = await request('GET', '/media/thumb/5', { headers: { ...headers, origin } })
        expect(media.status).toBe(401)
      }
    }
    // Same origin, and scripts that send no Origin at all (curl, the CLI), still work.
    for (const extra of [{ origin: server.origin }, {}] as Record<string, string>[]) {
      const res = await request('POST', '/api/system.status', {
        body: '',
        headers: { ...auth(), ...extra }
      })
      expect(res.status).toBe(200)
    }
  })

  it('ignores the cookie on cross-origin requests', async () => {
    const res = await request('POST', '/api/system.status', {
      body: '{}',
      headers: { ...cookie(), origin: 'http://127.0.0.1:1' }
    })
    expect(res.status).toBe(401)
    const site = await request('POST', '/api/system.status', {
      body: '{}',
      headers: { ...cookie(), 'sec-fetch-site': 'same-site' }
    })
    expect(site.status).toBe(401)
  })

  it('refuses a foreign Host header (DNS rebinding) even with the token', async () => {
    const res = await request('POST', '/api/system.status', {
      body: '{}',
      headers: { ...auth(), host: 'evil.example' }
    })
    expect(res.status).toBe(401)
  })

  it('rejects static files and the page without the token', async () => {
    expect((await request('GET', '/')).status).toBe(401)
    expect((await request('GET', '/?token=wrong')).status).toBe(401)
    expect((await request('GET', '/assets/app.js')).status).toBe(401)
    expect(
      (await request('GET', '/assets/app.js', { headers: { cookie: 'hist_token=bad' } })).status
    ).toBe(401)
  })

  it('opens the page with ?token=, sets an HttpOnly SameSite=Strict cookie, then serves assets', async () => {
    const page = await request('GET', `/?token=${server.token}`)
    expect(page.status).toBe(200)
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8')
    const setCookie = String(page.headers['set-cookie'])
    expect(setCookie).toContain(`hist_token=${server.token}`)
    expect(setCookie).toContain('HttpOnly')
    expect(setCookie).toContain('SameSite=Strict')
    expect(page.headers['content-security-policy']).toContain("script-src 'self'")
    const js = await request('GET', '/assets/app.js', { headers: cookie() })
    expect(js.status).toBe(200)
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8')
    expect(js.headers['x-content-type-options']).toBe('nosniff')
    const css = await request('GET', '/assets/app.css', { headers: cookie() })
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8')
  })

  it('serves the app page for history routes and 404 for missing assets or escapes', async () => {
    expect((await request('GET', '/runs/3', { headers: cookie() })).text).toContain(
      '<title>HIST</title>'
    )
    expect((await request('GET', '/assets/missing.js', { headers: cookie() })).status).toBe(404)
    const escape = await request('GET', '/assets/..%2f..%2fhist-secret.txt', { headers: cookie() })
    expect(escape.status).toBe(404)
    expect(escape.text).not.toContain('secret')
  })

  it('rejects media without the token and delegates with it', async () => {
    expect((await request('GET', '/media/image/5')).status).toBe(401)
    expect(media).not.toHaveBeenCalled()
    const res = await request('GET', '/media/thumb/5', { headers: cookie() })
    expect(res.status).toBe(200)
    expect(res.headers['content-type']).toBe('image/png')
    expect(media).toHaveBeenCalledWith('thumb/5')
    await request('GET', '/media/file/2/Japanese_(katakana)/a%20b.png', { headers: cookie() })
    expect(media).toHaveBeenLastCalledWith('file/2/Japanese_(katakana)/a%20b.png')
  })

  it('rejects WebSocket connections without the token or with a wrong one', async () => {
    await expect(openSocket('/events')).rejects.toThrow(/401/)
    await expect(openSocket('/events?token=wrong')).rejects.toThrow(/401/)
    await expect(openSocket('/events', { cookie: 'hist_token=wrong' })).rejects.toThrow(/401/)
    await expect(
      openSocket(`/events?token=${server.token}`, { origin: 'http://evil.example' })
    ).rejects.toThrow(/401/)
  })
})

describe('web mode: API', () => {
  it('answers 400 naming the field for an invalid payload, without calling the service', async () => {
    const res = await request('POST', '/api/runs.start', {
      headers: auth(),
      body: JSON.stringify({ datasetId: 1, epochs: 0 })
    })
    expect(res.status).toBe(400)
    const err = res.json().error!
    expect(err.code).toBe('invalid_payload')
    expect(err.message).toContain('epochs')
    expect(err.issues?.map((i) => i.path)).toEqual(['epochs'])
    expect(services.runs.start).not.toHaveBeenCalled()
  })

  it('answers the shared table of bad payloads with 400 and the reply IPC gets, services untouched', async () => {
    const spies = spyServices()
    const other = await startServer({ services: spies, events, staticDir: null })
    try {
      for (const { channel, payload, paths } of BAD_PAYLOADS) {
        const res = await fetch(`http://127.0.0.1:${other.port}/api/${channel}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${other.token}`, 'content-type': 'application/json' },
          body: JSON.stringify(payload)
        })
        expect(res.status, channel).toBe(400)
        const { error } = (await res.json()) as { error: { issues: { path: string }[] } }
        expect(error.issues.map((i) => i.path).sort()).toEqual([...paths].sort())
        expect({ error }).toEqual(await dispatch(spyServices(), channel, payload))
        expect(spyOf(spies, channel)).not.toHaveBeenCalled()
      }
    } finally {
      await other.close()
    }
  })

  it('answers 400 for a body that is not JSON', async () => {
    const res = await request('POST', '/api/datasets.get', { headers: auth(), body: '{id:' })
    expect(res.status).toBe(400)
    expect(res.json().error?.message).toMatch(/not valid JSON/)
    expect(services.datasets.get).not.toHaveBeenCalled()
  })

  it('passes a valid payload (with defaults applied) and returns { result }', async () => {
    const res = await request('POST', '/api/datasets.get', { headers: auth(), body: '{"id":4}' })
    expect(res.status).toBe(200)
    expect(res.json()).toEqual({ result: { id: 1 } })
    expect(services.datasets.get).toHaveBeenCalledWith({ id: 4 })
  })

  it('omits result for void methods', async () => {
    const res = await request('POST', '/api/datasets.remove', { headers: auth(), body: '{"id":4}' })
    expect(res.json()).toEqual({})
  })

  it('answers 404 for an unknown channel, 405 for GET, 503 for an unavailable service', async () => {
    expect((await request('POST', '/api/nope.list', { headers: auth(), body: '{}' })).status).toBe(
      404
    )
    expect(
      (await request('POST', '/api/system.constructor', { headers: auth(), body: '{}' })).status
    ).toBe(404)
    expect((await request('GET', '/api/system.status', { headers: auth() })).status).toBe(405)
    const missing = await request('POST', '/api/datasets.list', { headers: auth(), body: '{}' })
    expect(missing.status).toBe(503)
    expect(missing.json().error?.message).toMatch(/not stubbed in this test/)
  })

  it('answers 413 for a body over the limit without calling the service', async () => {
    const big = JSON.stringify({ runId: 1, dataBase64: 'A'.repeat(70 * 1024) })
    const res = await request('POST', '/api/retrieval.queryExternal', {
      headers: auth(),
      body: big
    })
    expect(res.status).toBe(413)
    expect(res.json().error?.code).toBe('too_large')
    expect(services.retrieval.queryExternal).not.toHaveBeenCalled()
    expect(DEFAULT_BODY_LIMIT).toBe(40 * 1024 * 1024)
  })
})

describe('web mode: events', () => {
  it('streams AppEvents over the WebSocket (token in the query or the cookie)', async () => {
    const byQuery = await openSocket(`/events?token=${server.token}`)
    const byCookie = await openSocket('/events', { ...cookie(), origin: server.origin })
    const received = (ws: WebSocket): Promise<unknown> =>
      new Promise((resolve) => ws.once('message', (data) => resolve(JSON.parse(String(data)))))
    const a = received(byQuery)
    const b = received(byCookie)
    events.emit({ type: 'datasets.changed' })
    expect(await a).toEqual({ type: 'datasets.changed' })
    expect(await b).toEqual({ type: 'datasets.changed' })
    byQuery.close()
    byCookie.close()
  })

  it('sends the initial events to each new socket', async () => {
    const other = await startServer({
      services,
      events,
      staticDir: null,
      initialEvents: () => [{ type: 'runs.changed' }]
    })
    try {
      const first = await new Promise<unknown>((resolve, reject) => {
        const s = new WebSocket(`ws://127.0.0.1:${other.port}/events?token=${other.token}`)
        s.once('message', (d) => {
          resolve(JSON.parse(String(d)))
          s.close()
        })
        s.once('error', reject)
      })
      expect(first).toEqual({ type: 'runs.changed' })
    } finally {
      await other.close()
    }
  })

  it('closes sockets when the server stops', async () => {
    const other = await startServer({ services, events, staticDir: null })
    const ws = await new Promise<WebSocket>((resolve, reject) => {
      const s = new WebSocket(`ws://127.0.0.1:${other.port}/events?token=${other.token}`)
      s.once('open', () => resolve(s))
      s.once('error', reject)
    })
    const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()))
    await other.close()
    await closed
  })
})
