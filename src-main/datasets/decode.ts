/**
 * How every consumer opens a dataset image. Datasets hold greyscale (1 channel), grey+alpha,
 * RGB, RGBA and CMYK files; models and thumbnails want 3-channel sRGB. `openRgb` applies the
 * EXIF orientation, flattens any alpha onto white (transparent pixels carry arbitrary colour,
 * so dropping alpha alone can leave black blotches), and converts to sRGB, which also turns
 * greyscale into 3 channels. Use it for training decode too, so thumbnails and models agree:
 *
 *   const { data, info } = await openRgb(item.absPath).resize(224, 224, { fit: 'cover' })
 *     .raw().toBuffer({ resolveWithObject: true })   // info.channels === 3
 */
import type { Sharp } from 'sharp'
import { openBounded } from '../ml/data/imageLimits'

/** Background used when flattening transparent images. */
export const FLATTEN_BACKGROUND = '#ffffff'

/**
 * A sharp pipeline that yields 3-channel sRGB pixels for any supported image file or buffer.
 * It refuses images above the pixel limit (see ml/data/imageLimits); follow it with a resize
 * so that large images shrink on load.
 */
export function openRgb(input: string | Buffer): Sharp {
  return openBounded(input)
    .rotate()
    .flatten({ background: FLATTEN_BACKGROUND })
    .toColourspace('srgb')
}
