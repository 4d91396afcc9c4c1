import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import sharp from 'sharp'
import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRng } from '../util/rng'
import { decodeImage, normalize, randomResizedCropBox, shorterSideTo, toBatch } from './decode'

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hist-decode-'))
const file = (n: string): string => path.join(tmp, n)

/** A W×H RGB image whose left half is black and right half white. */
async function halves(w: number, h: number): Promise<Buffer> {
  const px = Buffer.alloc(w * h * 3)
  for (let y = 0; y < h; y++)
    for (let x = Math.floor(w / 2); x < w; x++) px.fill(255, (y * w + x) * 3, (y * w + x) * 3 + 3)
  return sharp(px, { raw: { width: w, height: h, channels: 3 } })
    .png()
    .toBuffer()
}

beforeAll(async () => {
  await tf.setBackend('cpu')
  fs.writeFileSync(file('halves.png'), await halves(120, 60))
  // Grey 1-channel and RGBA images convert to RGB.
  const grey = Buffer.alloc(40 * 30, 0)
  for (let i = 0; i < grey.length; i++) grey[i] = i % 256
  fs.writeFileSync(
    file('grey.png'),
    await sharp(grey, { raw: { width: 40, height: 30, channels: 1 } })
      .png()
      .toBuffer()
  )
  const rgba = Buffer.alloc(20 * 20 * 4, 200)
  fs.writeFileSync(
    file('rgba.png'),
    await sharp(rgba, { raw: { width: 20, height: 20, channels: 4 } })
      .png()
      .toBuffer()
  )
  fs.writeFileSync(file('broken.png'), Buffer.from('not an image'))
})

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

describe('decodeImage', () => {
  it('returns size×size×3 HWC floats in [0,1] for every mode', async () => {
    for (const mode of ['train', 'test', 'cover'] as const) {
      const out = await decodeImage(file('halves.png'), 32, { mode, rng: createRng(1) })
      expect(out.length).toBe(32 * 32 * 3)
      expect(Math.min(...out)).toBeGreaterThanOrEqual(0)
      expect(Math.max(...out)).toBeLessThanOrEqual(1)
    }
  })

  it('turns greyscale into three equal channels and drops alpha', async () => {
    const g = await decodeImage(file('grey.png'), 16, { mode: 'cover' })
    for (let i = 0; i < g.length; i += 3) {
      expect(g[i]).toBe(g[i + 1])
      expect(g[i]).toBe(g[i + 2])
    }
    const a = await decodeImage(fs.readFileSync(file('rgba.png')), 8, { mode: 'test' })
    expect(a.length).toBe(8 * 8 * 3)
    // (alpha premultiplication during resize may round by a couple of levels)
    expect(Math.abs(a[0] - 200 / 255)).toBeLessThan(3 / 255)
  })

  it("'test' resizes the shorter side to size·256/224 and centre-crops; 'cover' keeps the centre", async () => {
    // 120×60 → shorter side 64·256/224 ≈ 73 → 146×73, centre 64 columns straddle the edge.
    const t = await decodeImage(file('halves.png'), 64, { mode: 'test' })
    const px = (img: Float32Array, x: number, y: number): number => img[(y * 64 + x) * 3]
    expect(px(t, 2, 32)).toBeLessThan(0.05)
    expect(px(t, 61, 32)).toBeGreaterThan(0.95)
    const c = await decodeImage(file('halves.png'), 64, { mode: 'cover' })
    expect(px(c, 2, 32)).toBeLessThan(0.05)
    expect(px(c, 61, 32)).toBeGreaterThan(0.95)
    expect(shorterSideTo(120, 60, 73)).toEqual({ width: 146, height: 73 })
    expect(shorterSideTo(50, 100, 10)).toEqual({ width: 10, height: 20 })
  })

  it("'train' crops and flips reproducibly from the rng", async () => {
    const a = await decodeImage(file('halves.png'), 24, { mode: 'train', rng: createRng(5) })
    const b = await decodeImage(file('halves.png'), 24, { mode: 'train', rng: createRng(5) })
    expect(Array.from(a)).toEqual(Array.from(b))
    const outs = await Promise.all(
      [6, 7, 8, 9, 10].map((s) =>
        decodeImage(file('halves.png'), 24, { mode: 'train', rng: createRng(s) })
      )
    )
    expect(outs.some((o) => Array.from(o).join() !== Array.from(a).join())).toBe(true)
    await expect(decodeImage(file('halves.png'), 24, { mode: 'train' })).rejects.toThrow(
      /needs an rng/
    )
  })

  it('names the file that cannot be decoded', async () => {
    await expect(decodeImage(file('broken.png'), 8, { mode: 'test' })).rejects.toThrow(
      /cannot decode .*broken.png/
    )
  })
})

describe('randomResizedCropBox', () => {
  it('stays inside the image with area 8–100 % and ratio 3/4–4/3 (or the centre fallback)', () => {
    const rng = createRng(11)
    for (let i = 0; i < 500; i++) {
      const W = 20 + rng.int(300)
      const H = 20 + rng.int(300)
      const b = randomResizedCropBox(W, H, rng)
      expect(b.left >= 0 && b.top >= 0 && b.left + b.width <= W && b.top + b.height <= H).toBe(true)
      const area = (b.width * b.height) / (W * H)
      const ratio = b.width / b.height
      const fallback = b.width === W || b.height === H
      if (!fallback) {
        expect(area).toBeGreaterThan(0.06)
        expect(ratio).toBeGreaterThan(0.7)
        expect(ratio).toBeLessThan(1.4)
      }
    }
  })
})

describe('toBatch and normalize', () => {
  it('stacks images and applies (x − mean) / std per channel', () => {
    const img = new Float32Array([0, 0.5, 1, 1, 0.5, 0])
    const batch = toBatch([img.subarray(0, 3), Uint8Array.from([0, 255, 51])], 1)
    expect(batch.shape).toEqual([2, 1, 1, 3])
    expect(Array.from(batch.dataSync()).map((v) => Math.round(v * 1000) / 1000)).toEqual([
      0, 0.5, 1, 0, 1, 0.2
    ])
    batch.dispose()
    const b = tf.tensor4d(img, [1, 1, 2, 3])
    const n = normalize(b, [0.5, 0.5, 0.5], [0.25, 0.5, 1])
    expect(Array.from(n.dataSync())).toEqual([-2, 0, 0.5, 2, 0, -0.5])
    tf.dispose([b, n])
  })
})
