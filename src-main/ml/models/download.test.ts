import fs from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadBackbone } from './backbones'
import {
  downloadModel,
  findDownloadable,
  registerDownloadable,
  verifyCache,
  type DownloadableModel
} from './download'
import { buildTinyLayersModel, saveLayersModel } from './models.testutil'

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hist-download-'))
const served = path.join(tmp, 'served')
let server: http.Server
let base = ''
let requests = 0

/** Serves `served/`; /truncated/* cuts the shard off mid-body, /short/* serves a shorter shard. */
function handler(req: http.IncomingMessage, res: http.ServerResponse): void {
  requests++
  const url = new URL(req.url ?? '/', 'http://x')
  const [, variant, file] = url.pathname.split('/')
  const p = path.join(served, file ?? '')
  if (variant === 'missing' || !file || !fs.existsSync(p)) {
    res.writeHead(404).end('not found')
    return
  }
  const body = fs.readFileSync(p)
  if (variant === 'truncated' && file === 'weights.bin') {
    res.writeHead(200, { 'content-length': String(body.length) })
    res.write(body.subarray(0, Math.floor(body.length / 2)))
    setTimeout(() => res.destroy(), 20)
    return
  }
  const out =
    variant === 'short' && file === 'weights.bin' ? body.subarray(0, body.length - 8) : body
  res.writeHead(200, { 'content-length': String(out.length) })
  res.end(out)
}

function entry(variant: string, extra: Partial<DownloadableModel> = {}): DownloadableModel {
  return {
    name: `test-${variant}`,
    title: 'test model',
    url: `${base}/${variant}/model.json`,
    format: 'layers',
    featureNode: 'out_relu',
    inputSize: 16,
    mean: [0.5, 0.5, 0.5],
    std: [0.5, 0.5, 0.5],
    approxBytes: 1000,
    ...extra
  }
}

function leftovers(dir: string): string[] {
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.part')) : []
}

beforeAll(async () => {
  await tf.setBackend('cpu')
  const model = buildTinyLayersModel(2)
  await saveLayersModel(model, served)
  model.dispose()
  server = http.createServer(handler)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()))
  fs.rmSync(tmp, { recursive: true, force: true })
})

describe('downloadable backbones', () => {
  it('has a registry of official TF.js models and rejects unknown names', () => {
    expect(findDownloadable('mobilenet_v1_1.0_224').format).toBe('layers')
    expect(() => findDownloadable('nope')).toThrow(
      /unknown downloadable backbone 'nope'; known: mobilenet_v1_1.0_224/
    )
  })

  it('downloads with progress, verifies, caches, then loads offline from the cache', async () => {
    const modelsDir = path.join(tmp, 'cache-ok')
    const e = entry('ok')
    registerDownloadable(e)
    const progress: [number, number][] = []
    const before = requests
    const bb = await loadBackbone(
      { kind: 'download', name: e.name },
      { modelsDir, onProgress: (d, t) => progress.push([d, t]) }
    )
    expect(requests - before).toBe(2)
    expect(bb.featureChannels).toBe(12)
    expect(bb.mean).toEqual([0.5, 0.5, 0.5])
    const total =
      fs.statSync(path.join(served, 'model.json')).size +
      fs.statSync(path.join(served, 'weights.bin')).size
    expect(progress[progress.length - 1]).toEqual([total, total])
    for (let i = 1; i < progress.length; i++)
      expect(progress[i][0]).toBeGreaterThanOrEqual(progress[i - 1][0])
    const dir = path.join(modelsDir, e.name)
    expect(fs.readdirSync(dir).sort()).toEqual(['cache.json', 'model.json', 'weights.bin'])
    // Offline: the cache is used without any request.
    const again = await loadBackbone({ kind: 'download', name: e.name }, { modelsDir })
    expect(requests - before).toBe(2)
    const x = tf.randomUniform([1, 16, 16, 3]) as tf.Tensor4D
    const [y1, y2] = [bb.apply(x, false), again.apply(x, false)]
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(y1, y2))).dataSync()[0])).toBe(0)
    tf.dispose([x, y1, y2])
    bb.dispose()
    again.dispose()
  })

  it('re-downloads when a cached file was damaged', async () => {
    const modelsDir = path.join(tmp, 'cache-damaged')
    const e = entry('ok')
    await downloadModel(e, modelsDir)
    const shard = path.join(modelsDir, e.name, 'weights.bin')
    const buf = fs.readFileSync(shard)
    buf[10] ^= 0xff
    fs.writeFileSync(shard, buf)
    expect(verifyCache(e, modelsDir)).toBeNull()
    const before = requests
    await downloadModel(e, modelsDir)
    expect(requests - before).toBe(2)
    expect(verifyCache(e, modelsDir)).not.toBeNull()
  })

  it('fails clearly on a connection cut mid-file and leaves no partial file or cache marker', async () => {
    const modelsDir = path.join(tmp, 'cache-truncated')
    const e = entry('truncated')
    await expect(downloadModel(e, modelsDir)).rejects.toThrow(
      /could not download backbone 'test-truncated' from .*(broke off|incomplete)/
    )
    const dir = path.join(modelsDir, e.name)
    expect(leftovers(dir)).toEqual([])
    expect(fs.existsSync(path.join(dir, 'cache.json'))).toBe(false)
    expect(fs.existsSync(path.join(dir, 'weights.bin'))).toBe(false)
  })

  it('detects a shard shorter than model.json describes even when Content-Length agrees', async () => {
    const modelsDir = path.join(tmp, 'cache-short')
    await expect(downloadModel(entry('short'), modelsDir)).rejects.toThrow(
      /weight shards hold \d+ bytes but model.json describes/
    )
    expect(verifyCache(entry('short'), modelsDir)).toBeNull()
  })

  it('checks sha256 and size where the registry knows them', async () => {
    const modelsDir = path.join(tmp, 'cache-sha')
    const bad = entry('ok', {
      name: 'test-sha',
      files: { 'model.json': { sha256: '0'.repeat(64) } }
    })
    await expect(downloadModel(bad, modelsDir)).rejects.toThrow(/corrupt: sha256/)
    expect(leftovers(path.join(modelsDir, 'test-sha'))).toEqual([])
    const wrongSize = entry('ok', { name: 'test-size', files: { 'weights.bin': { size: 5 } } })
    await expect(downloadModel(wrongSize, modelsDir)).rejects.toThrow(
      /incomplete: got \d+ bytes, expected 5/
    )
  })

  it('reports HTTP errors, unreachable hosts and cancellation', async () => {
    const modelsDir = path.join(tmp, 'cache-errors')
    await expect(downloadModel(entry('missing'), modelsDir)).rejects.toThrow(/answered HTTP 404/)
    const closed = entry('ok', { name: 'test-closed', url: 'http://127.0.0.1:9/x/model.json' })
    await expect(downloadModel(closed, modelsDir)).rejects.toThrow(
      /could not download backbone 'test-closed'.*cannot reach/
    )
    const ac = new AbortController()
    ac.abort()
    await expect(
      downloadModel(entry('ok', { name: 'test-abort' }), modelsDir, { signal: ac.signal })
    ).rejects.toThrow(/cancelled/)
  })
})
