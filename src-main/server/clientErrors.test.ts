/**
 * Client errors over web mode with the real services (issue 13 item 7): an unknown run id is
 * 404 like an unknown dataset, a config the trainer cannot use is 400 naming the field, and
 * none of them prints a stack trace to the server log.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { closeContext, createContext, type AppContext } from '../app/context'
import { createServices, type AppServices } from '../services/index'
import { startServer, type RunningServer } from './index'

let dir: string
let ctx: AppContext
let services: AppServices
let server: RunningServer

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hist-client-errors-'))
  ctx = createContext(dir, 'web')
  services = createServices(ctx)
  server = await startServer({ services, events: ctx.events, staticDir: null })
})

afterAll(async () => {
  await server.close()
  await services.dispose()
  closeContext(ctx)
  rmSync(dir, { recursive: true, force: true })
})

afterEach(() => {
  vi.restoreAllMocks()
})

interface ErrorBody {
  error: { message: string; code: string; issues?: { path: string; message: string }[] }
}

async function call(
  channel: string,
  payload: unknown
): Promise<{ status: number; body: ErrorBody }> {
  const res = await fetch(`http://127.0.0.1:${server.port}/api/${channel}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(payload)
  })
  return { status: res.status, body: (await res.json()) as ErrorBody }
}

/** Spies on every way a stack trace could reach the server log. */
function watchLog(): () => unknown[][] {
  const error = vi.spyOn(console, 'error').mockImplementation(() => {})
  const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
  return () => [...error.mock.calls, ...warn.mock.calls]
}

describe('web mode: an unknown run id is 404, like an unknown dataset', () => {
  const cases: [string, unknown][] = [
    ['runs.get', { id: 4242 }],
    ['runs.remove', { id: 4242 }],
    ['runs.stop', { id: 4242 }],
    ['runs.resume', { id: 4242 }],
    ['runs.pause', { id: 4242 }],
    ['runs.exportRun', { id: 4242, outDir: tmpdir() }],
    ['datasets.get', { id: 4242 }]
  ]
  it.each(cases)('%s', async (channel, payload) => {
    const logged = watchLog()
    const { status, body } = await call(channel, payload)
    expect(status).toBe(404)
    expect(body.error).toMatchObject({ code: 'not_found', message: expect.stringMatching(/4242/) })
    expect(logged()).toEqual([])
  })
})

describe('web mode: a config the trainer cannot use is 400 naming the field', () => {
  const cases: [string, Record<string, unknown>, string][] = [
    [
      'a balanced batch of 4 with 64 images per class',
      { sampler: 'balanced', batchSize: 4, ipc: 64 },
      'batchSize'
    ],
    [
      'an unreadable local model path',
      {
        backbone: {
          kind: 'local',
          modelPath: join(tmpdir(), 'hist-no-such-dir', 'model.json'),
          featureNode: 'x'
        }
      },
      'backbone.modelPath'
    ],
    [
      'an unknown downloadable backbone',
      { backbone: { kind: 'download', name: 'no-such-net' } },
      'backbone.name'
    ]
  ]
  for (const channel of ['runs.probe', 'runs.start']) {
    it.each(cases)(`${channel}: %s`, async (_what, fields, field) => {
      const logged = watchLog()
      const { status, body } = await call(channel, { datasetId: 1, ...fields })
      expect(status).toBe(400)
      expect(body.error.code).toBe('invalid_payload')
      expect(body.error.issues?.map((i) => i.path)).toEqual([field])
      expect(body.error.message).toContain(field)
      expect(logged()).toEqual([])
    })
  }
})
