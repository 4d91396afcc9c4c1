/**
 * The bad-input corpus (issue 13, "Keep the campaign"): generates, into a folder, the files the
 * bad-input cases need (broken images, malformed list files, a folder that is not a dataset)
 * and one `cases/<id>.json` per case stating its input and its expected named error. Nothing
 * here is committed as a binary: every image is made with sharp at generation time.
 *
 *   corpus/
 *     baseline/            a good dataset, imported first; it must never change
 *     images/              one folder dataset whose files each carry one problem
 *     lists/               list files (CSV, .mat) that must be refused or named line by line
 *     etc-like/            a folder of configuration files and no images
 *     cases/<id>.json      { id, area, input, expect }
 */
import { copyFileSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import sharp from 'sharp'
import { CASES, type CorpusCase } from './cases'

/** Deterministic noise, different per seed. */
function noise(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n)
  let x = (seed * 2654435761) >>> 0 || 1
  for (let i = 0; i < n; i++) {
    x ^= x << 13
    x >>>= 0
    x ^= x >>> 17
    x ^= x << 5
    x >>>= 0
    b[i] = x & 0xff
  }
  return b
}

const png = (seed: number, size = 16): Promise<Buffer> =>
  sharp(noise(size * size * 3, seed), { raw: { width: size, height: size, channels: 3 } })
    .png()
    .toBuffer()

const jpeg = (seed: number, w = 64, h = 48): Promise<Buffer> =>
  sharp(noise(w * h * 3, seed), { raw: { width: w, height: h, channels: 3 } })
    .jpeg({ quality: 90 })
    .toBuffer()

function put(root: string, rel: string, bytes: Buffer | string): string {
  const p = join(root, ...rel.split('/'))
  mkdirSync(dirname(p), { recursive: true })
  writeFileSync(p, bytes)
  return p
}

/** Writes the baseline dataset: 3 classes × 3 good PNGs. */
async function baseline(root: string): Promise<void> {
  let seed = 1
  for (const c of ['alpha', 'beta', 'gamma'])
    for (let i = 0; i < 3; i++) put(root, `${c}/img${i}.png`, await png(seed++))
}

/** One folder dataset whose files each carry one problem (plus good images in every class). */
async function badImages(root: string, outside: string): Promise<void> {
  for (let i = 0; i < 3; i++) {
    put(root, `good/g${i}.png`, await png(100 + i))
    put(root, `mixed/m${i}.png`, await png(200 + i))
  }
  const j = await jpeg(7)
  put(root, 'mixed/truncated.jpg', j.subarray(0, Math.floor(j.length * 0.6)))
  const p = await png(8, 32)
  put(root, 'mixed/truncated.png', p.subarray(0, p.length - 30))
  put(root, 'mixed/text.jpg', 'this is a text file renamed to .jpg\n')
  put(root, 'mixed/empty.png', Buffer.alloc(0))
  put(root, 'mixed/old.bmp', Buffer.concat([Buffer.from('BM'), Buffer.alloc(60)]))
  put(root, 'mixed/notes.txt', 'not an image\n')
  const scrambled = Buffer.from(await jpeg(9, 64, 64))
  for (let i = scrambled.length >> 1; i < scrambled.length - 20; i++) scrambled[i] = (i * 37) & 0xff
  put(root, 'mixed/scrambled.jpg', scrambled)
  copyFileSync(join(root, 'mixed', 'm0.png'), join(root, 'mixed', 'dup_m0.png'))
  put(outside, 'secret.png', await png(300))
  symlinkSync(join(outside, 'secret.png'), join(root, 'mixed', 'escape.png'))
  // 16000×16000 of one colour: ~750 KB on disk, 768 MB decoded.
  put(
    root,
    'mixed/bomb.png',
    await sharp({ create: { width: 16000, height: 16000, channels: 3, background: '#808080' } })
      .png({ compressionLevel: 9 })
      .toBuffer()
  )
  put(root, 'allbad/broken.png', 'not a png')
}

/** List files: a CSV with an unterminated quote on line 5 (the other rows must be kept). */
async function lists(root: string): Promise<void> {
  const rows = ['label,path,split,is_query,is_gallery']
  for (let i = 0; i < 8; i++) {
    put(root, `csvset/images/${i}.png`, await png(400 + i))
    rows.push(`${i % 2},images/${i}.png,train,,`)
  }
  rows[4] = rows[4].replace('images/', '"images/')
  put(root, 'csvset/list.csv', rows.join('\n') + '\n')
  put(root, 'nocols/list.csv', 'file,class\na.png,1\n')
  put(root, 'emptycsv/list.csv', '')
  put(root, 'headeronly/list.csv', 'label,path\n')
  put(root, 'cars/cars_annos.mat', 'garbage, not a MAT-file')
  put(root, 'notalist/notes.txt', 'hello\n')
}

/** A folder shaped like /etc: sub-folders of configuration files, no images. */
function etcLike(root: string): void {
  for (const d of ['apt', 'ssh', 'systemd/system'])
    for (let i = 0; i < 4; i++) put(root, `${d}/f${i}.conf`, `k${i}=v\n`)
  put(root, 'passwd', 'root:x:0:0:root:/root:/bin/bash\n')
}

/** Generates the corpus into `dir` (which must exist and be empty); returns the cases. */
export async function generateCorpus(dir: string): Promise<CorpusCase[]> {
  await baseline(join(dir, 'baseline'))
  mkdirSync(join(dir, 'outside'), { recursive: true })
  await badImages(join(dir, 'images'), join(dir, 'outside'))
  await lists(join(dir, 'lists'))
  etcLike(join(dir, 'etc-like'))
  mkdirSync(join(dir, 'cases'), { recursive: true })
  for (const c of CASES)
    writeFileSync(join(dir, 'cases', `${c.id}.json`), JSON.stringify(c, null, 2) + '\n')
  return CASES
}
