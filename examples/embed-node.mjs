// Embeds images with a model exported by `hist export --format tfjs`, using only
// @tensorflow/tfjs and sharp (no HIST Studio code). Prints one JSON array of L2-normalised rows.
//   node examples/embed-node.mjs <export-dir> <image> [<image> …]
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import * as tf from '@tensorflow/tfjs'
import sharp from 'sharp'

const [dir, ...images] = process.argv.slice(2)
const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'))
const weights = json.weightsManifest.flatMap((g) => g.paths).map((p) => readFileSync(join(dir, p)))
const model = await tf.loadLayersModel(
  tf.io.fromMemory({
    modelTopology: json.modelTopology,
    weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
    weightData: new Uint8Array(Buffer.concat(weights)).buffer
  })
)
const pre = JSON.parse(readFileSync(join(dir, 'preprocessing.json'), 'utf8'))
const s = pre.inputSize

/** Decodes an image to s × s RGB bytes as recorded in preprocessing.json. */
async function pixels(file) {
  let img = sharp(file).rotate().removeAlpha().toColourspace('srgb')
  if (pre.resize === 'cover') img = img.resize(s, s, { fit: 'cover' })
  else {
    const { width, height } = await sharp(file).rotate().metadata()
    const side = Math.round((s * 256) / 224)
    const w = width <= height ? side : Math.max(side, Math.floor((side * width) / height))
    const h = width <= height ? Math.max(side, Math.floor((side * height) / width)) : side
    img = img.resize(w, h, { fit: 'fill', kernel: 'linear' })
    img = img.extract({
      left: Math.round((w - s) / 2),
      top: Math.round((h - s) / 2),
      width: s,
      height: s
    })
  }
  return img.raw().toBuffer()
}

const batch = await Promise.all(images.map(pixels))
const rows = tf.tidy(() => {
  const x = tf.tensor4d(Buffer.concat(batch), [images.length, s, s, 3], 'int32').toFloat()
  const norm = x.div(pre.scale).sub(pre.mean).div(pre.std)
  const e = model.predict(norm)
  return e.div(tf.maximum(tf.norm(e, 2, 1, true), 1e-12)).arraySync()
})
process.stdout.write(JSON.stringify(rows))
