/**
 * Image decoding and transforms with sharp. Output is HWC float32 RGB in [0,1]; the caller
 * normalises with the backbone's mean/std (see normalize).
 *
 * - train: random-resized-crop (scale 0.08–1, ratio 3/4–4/3, torchvision's algorithm) + random
 *   horizontal flip;
 * - test: resize the shorter side to size·256/224, centre crop `size` (the ResNet recipe);
 * - cover: resize to size × size, cropping the longer side (sharp's fit 'cover'), as in the
 *   Omniglot reference protocol.
 */
import sharp, { type Sharp } from 'sharp'
import * as tf from '@tensorflow/tfjs'
import type { Rng } from '../util/rng'
import { checkImageSize, maxImagePixels, openBounded } from './imageLimits'

/**
 * Images above this many pixels are first reduced (with JPEG/WebP shrink-on-load) so that
 * their longest side is PRESHRINK_SIDE, then cropped and resized as usual: a crop of a
 * 50-megapixel photo never needs all of its pixels in memory at 224 px.
 */
export const PRESHRINK_PIXELS = 4096 * 4096

/** Longest side of a pre-shrunk large image. */
export const PRESHRINK_SIDE = 2048

/** How an image is turned into a size × size input. */
export type TransformMode = 'train' | 'test' | 'cover'

/** Options of decodeImage. */
export interface DecodeOptions {
  mode: TransformMode
  /** Random source for 'train' (crop and flip); required in that mode. */
  rng?: Rng
}

/** A crop box in pixels. */
export interface CropBox {
  left: number
  top: number
  width: number
  height: number
}

/** torchvision's RandomResizedCrop.get_params: 10 tries, then a ratio-clamped centre crop. */
export function randomResizedCropBox(
  width: number,
  height: number,
  rng: Rng,
  scale: [number, number] = [0.08, 1],
  ratio: [number, number] = [3 / 4, 4 / 3]
): CropBox {
  const area = width * height
  const logR = [Math.log(ratio[0]), Math.log(ratio[1])]
  for (let attempt = 0; attempt < 10; attempt++) {
    const target = area * (scale[0] + rng.next() * (scale[1] - scale[0]))
    const aspect = Math.exp(logR[0] + rng.next() * (logR[1] - logR[0]))
    const w = Math.round(Math.sqrt(target * aspect))
    const h = Math.round(Math.sqrt(target / aspect))
    if (w > 0 && h > 0 && w <= width && h <= height) {
      return { top: rng.int(height - h + 1), left: rng.int(width - w + 1), width: w, height: h }
    }
  }
  const inRatio = width / height
  let w = width
  let h = height
  if (inRatio < ratio[0]) h = Math.round(w / ratio[0])
  else if (inRatio > ratio[1]) w = Math.round(h * ratio[1])
  return {
    top: Math.floor((height - h) / 2),
    left: Math.floor((width - w) / 2),
    width: w,
    height: h
  }
}

/** Size after resizing the shorter side to `short` (torchvision truncates the longer side). */
export function shorterSideTo(
  width: number,
  height: number,
  short: number
): { width: number; height: number } {
  if (width <= height)
    return { width: short, height: Math.max(short, Math.floor((short * height) / width)) }
  return { width: Math.max(short, Math.floor((short * width) / height)), height: short }
}

/** Decodes one image file or buffer into size × size × 3 float32 in [0,1] (HWC). */
export async function decodeImage(
  input: string | Buffer,
  size: number,
  opts: DecodeOptions
): Promise<Float32Array> {
  const raw = await decodeImageU8(input, size, opts)
  const out = new Float32Array(raw.length)
  for (let i = 0; i < raw.length; i++) out[i] = raw[i] / 255
  return out
}

/** As decodeImage, but the raw uint8 RGB bytes (cheaper to move between threads). */
export async function decodeImageU8(
  input: string | Buffer,
  size: number,
  opts: DecodeOptions
): Promise<Uint8Array> {
  const where = typeof input === 'string' ? input : 'image buffer'
  try {
    const limit = maxImagePixels()
    // Alpha is dropped (not composited), as PIL's convert('RGB') does; grey becomes 3 channels.
    const open = (): Sharp =>
      openBounded(input, { limit }).rotate().removeAlpha().toColourspace('srgb')
    let img: Sharp
    let width = 0
    let height = 0
    if (opts.mode === 'cover') {
      // The resize follows the open directly: JPEG/WebP shrink on load, and the pixel limit
      // refuses a bomb before decoding. No header pass needed.
      img = open()
    } else {
      // The header bounds the decode and gives the upright size that crop boxes refer to.
      const meta = await checkImageSize(input, limit)
      if (!meta.width || !meta.height) throw new Error('no image dimensions')
      const swap = (meta.orientation ?? 1) >= 5
      width = swap ? meta.height : meta.width
      height = swap ? meta.width : meta.height
      img = open()
      if (width * height > PRESHRINK_PIXELS) {
        const { data, info } = await img
          .resize(PRESHRINK_SIDE, PRESHRINK_SIDE, { fit: 'inside' })
          .raw()
          .toBuffer({ resolveWithObject: true })
        width = info.width
        height = info.height
        img = sharp(data, { raw: { width, height, channels: info.channels as 3 } })
      }
    }
    if (opts.mode === 'train') {
      if (!opts.rng) throw new Error("mode 'train' needs an rng")
      const box = randomResizedCropBox(width, height, opts.rng)
      img = img.extract(box).resize(size, size, { fit: 'fill', kernel: 'linear' })
      if (opts.rng.next() < 0.5) img = img.flop()
    } else if (opts.mode === 'test') {
      const r = shorterSideTo(width, height, Math.round((size * 256) / 224))
      img = img.resize(r.width, r.height, { fit: 'fill', kernel: 'linear' })
      img = img.extract({
        left: Math.round((r.width - size) / 2),
        top: Math.round((r.height - size) / 2),
        width: size,
        height: size
      })
    } else {
      img = img.resize(size, size, { fit: 'cover' })
    }
    const { data, info } = await img.raw().toBuffer({ resolveWithObject: true })
    if (info.width !== size || info.height !== size || info.channels !== 3) {
      throw new Error(
        `decoded to ${info.width}×${info.height}×${info.channels}, expected ${size}×${size}×3`
      )
    }
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
  } catch (err) {
    throw new Error(`cannot decode ${where}: ${(err as Error).message}`)
  }
}

/** Stacks decoded HWC images into a [N,S,S,3] tensor (values unchanged). */
export function toBatch(images: (Float32Array | Uint8Array)[], size: number): tf.Tensor4D {
  const per = size * size * 3
  const buf = new Float32Array(images.length * per)
  for (let i = 0; i < images.length; i++) {
    const img = images[i]
    if (img.length !== per) throw new Error(`image ${i} has ${img.length} values, expected ${per}`)
    if (img instanceof Uint8Array) {
      for (let k = 0; k < per; k++) buf[i * per + k] = img[k] / 255
    } else {
      buf.set(img, i * per)
    }
  }
  return tf.tensor4d(buf, [images.length, size, size, 3])
}

/** (batch − mean) / std per channel; batch holds [0,1] pixels. */
export function normalize(
  batch: tf.Tensor4D,
  mean: readonly number[],
  std: readonly number[]
): tf.Tensor4D {
  if (mean.every((m) => m === 0) && std.every((s) => s === 1)) return tf.clone(batch)
  return tf.tidy(() => tf.div(tf.sub(batch, tf.tensor1d([...mean])), tf.tensor1d([...std])))
}
