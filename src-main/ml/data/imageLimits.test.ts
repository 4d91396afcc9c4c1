import sharp from 'sharp'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createRng } from '../util/rng'
import { decodeImageU8 } from './decode'
import {
  checkImageSize,
  DEFAULT_MAX_IMAGE_PIXELS,
  ImageTooLargeError,
  maxImagePixels,
  parsePixelLimit
} from './imageLimits'

let bomb: Buffer
const envBefore = process.env.HIST_MAX_IMAGE_PIXELS

beforeAll(async () => {
  // 16000×16000 RGB of one colour: ~750 KB on disk, 768 MB decoded.
  bomb = await sharp({ create: { width: 16000, height: 16000, channels: 3, background: '#777' } })
    .png({ compressionLevel: 9 })
    .toBuffer()
}, 120_000)

afterEach(() => {
  if (envBefore === undefined) delete process.env.HIST_MAX_IMAGE_PIXELS
  else process.env.HIST_MAX_IMAGE_PIXELS = envBefore
})

describe('the pixel limit', () => {
  it('defaults to 100 megapixels and reads HIST_MAX_IMAGE_PIXELS', () => {
    delete process.env.HIST_MAX_IMAGE_PIXELS
    expect(maxImagePixels()).toBe(DEFAULT_MAX_IMAGE_PIXELS)
    expect(DEFAULT_MAX_IMAGE_PIXELS).toBe(100_000_000)
    process.env.HIST_MAX_IMAGE_PIXELS = '300M'
    expect(maxImagePixels()).toBe(300_000_000)
    expect(maxImagePixels(5)).toBe(5)
    process.env.HIST_MAX_IMAGE_PIXELS = 'lots'
    expect(() => maxImagePixels()).toThrow(/HIST_MAX_IMAGE_PIXELS="lots" is not a positive/)
    expect(() => maxImagePixels(0)).toThrow(RangeError)
  })

  it('parses counts and megapixels', () => {
    expect(parsePixelLimit('100000000')).toBe(1e8)
    expect(parsePixelLimit('100e6')).toBe(1e8)
    expect(parsePixelLimit('2.5MP')).toBe(2_500_000)
    for (const bad of ['', '-5', '0', 'NaN', '1e400', '12 px'])
      expect(parsePixelLimit(bad)).toBeNull()
  })

  it('refuses a bomb from its header, naming the size and the limit', async () => {
    const err = await checkImageSize(bomb).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ImageTooLargeError)
    expect((err as Error).message).toBe(
      'image is 16000×16000 (256 megapixels), above the limit of 100 megapixels; set HIST_MAX_IMAGE_PIXELS to allow larger images'
    )
  })
})

describe('training and embedding decode', () => {
  it('refuses a bomb in every mode', async () => {
    for (const mode of ['train', 'test', 'cover'] as const) {
      await expect(decodeImageU8(bomb, 32, { mode, rng: createRng(1) })).rejects.toThrow(
        /pixel limit|above the limit of 100 megapixels/
      )
    }
  })

  it('pre-shrinks a large (but allowed) image and still gives size×size×3', async () => {
    // 5000×4000 = 20 MP, above the pre-shrink threshold: a left-black / right-white image.
    const w = 5000
    const h = 4000
    const big = await sharp({ create: { width: w, height: h, channels: 3, background: '#000' } })
      .composite([
        {
          input: { create: { width: w / 2, height: h, channels: 3, background: '#fff' } },
          left: w / 2,
          top: 0
        }
      ])
      .jpeg()
      .toBuffer()
    for (const mode of ['train', 'test', 'cover'] as const) {
      const px = await decodeImageU8(big, 32, { mode, rng: createRng(3) })
      expect(px.length).toBe(32 * 32 * 3)
    }
    // 'test' keeps the geometry: the left column is black, the right column white.
    const test = await decodeImageU8(big, 32, { mode: 'test' })
    expect(test[(16 * 32 + 0) * 3]).toBeLessThan(20)
    expect(test[(16 * 32 + 31) * 3]).toBeGreaterThan(235)
  }, 120_000)
})
