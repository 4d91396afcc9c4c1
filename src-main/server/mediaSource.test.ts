import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it, vi } from 'vitest'
import type { AppContext } from '../app/context'

const dir = mkdtempSync(join(tmpdir(), 'hist-media-'))
const png = join(dir, 'a.png')
writeFileSync(png, Buffer.from([137, 80, 78, 71]))

const resolveMedia = vi.hoisted(() => vi.fn())
vi.mock('../datasets/media', () => ({ resolveMedia }))
const { createMediaSource } = await import('./mediaSource')

afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('createMediaSource', () => {
  const ctx = {} as AppContext

  it('sends the resolved file with its content type, passing the encoded path through', async () => {
    resolveMedia.mockResolvedValueOnce({ ok: true, filePath: png, contentType: 'image/png' })
    const reply = await createMediaSource(ctx)('file/1/a%20b.png')
    expect(resolveMedia).toHaveBeenCalledWith(ctx, 'file/1/a%20b.png')
    expect(reply.status).toBe(200)
    expect(reply.contentType).toBe('image/png')
    expect([...(reply.body as Uint8Array)]).toEqual([137, 80, 78, 71])
  })

  it('passes refusals through with their status and message', async () => {
    resolveMedia.mockResolvedValueOnce({ ok: false, status: 403, message: 'refused: traversal' })
    expect(await createMediaSource(ctx)('file/1/..')).toEqual({
      status: 403,
      contentType: 'text/plain; charset=utf-8',
      body: 'refused: traversal'
    })
  })

  it('answers 404 when the file vanished after resolving', async () => {
    resolveMedia.mockResolvedValueOnce({
      ok: true,
      filePath: join(dir, 'gone.png'),
      contentType: 'image/png'
    })
    expect((await createMediaSource(ctx)('image/3')).status).toBe(404)
  })
})
