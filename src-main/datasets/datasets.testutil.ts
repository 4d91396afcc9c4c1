/**
 * Helpers for the datasets tests (not a test file itself): temporary app contexts, small
 * unique images and a MATLAB level-5 writer for Cars196 fixtures.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { deflateSync } from 'node:zlib'
import sharp from 'sharp'
import { closeContext, createContext, type AppContext } from '../app/context'

/** A temporary data folder with an open context; call `dispose()` at the end. */
export function tempContext(): AppContext & { dispose: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'hist-data-'))
  const ctx = createContext(dir, 'cli')
  return Object.assign(ctx, {
    dispose: () => {
      closeContext(ctx)
      rmSync(dir, { recursive: true, force: true })
    }
  })
}

/** A temporary folder; returns its path. */
export function tempDir(prefix = 'hist-ds-'): string {
  return mkdtempSync(join(tmpdir(), prefix))
}

/** Deterministic noise pixels, different for every seed. */
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

/** A small PNG whose content depends on `seed` (channels 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA). */
export async function pngBytes(
  seed: number,
  size = 16,
  channels: 1 | 2 | 3 | 4 = 3
): Promise<Buffer> {
  let img = sharp(noise(size * size * channels, seed), {
    raw: { width: size, height: size, channels }
  })
  if (channels <= 2) img = img.toColourspace('b-w')
  return img.png().toBuffer()
}

/** A small JPEG whose content depends on `seed`. */
export async function jpegBytes(seed: number, width = 24, height = 16): Promise<Buffer> {
  return sharp(noise(width * height * 3, seed), { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 90 })
    .toBuffer()
}

/** Writes bytes to root/rel, creating folders. */
export function put(root: string, rel: string, bytes: Buffer | string): string {
  const p = join(root, ...rel.split('/'))
  mkdirSync(dirname(p), { recursive: true })
  writeFileSync(p, bytes)
  return p
}

/** Writes `perClass` unique PNGs into each class folder; returns the number written. */
export async function makeFolderDataset(
  root: string,
  classes: string[],
  perClass: number,
  seed0 = 1
): Promise<number> {
  let seed = seed0
  for (const c of classes) {
    for (let i = 0; i < perClass; i++) put(root, `${c}/img${i}.png`, await pngBytes(seed++))
  }
  return classes.length * perClass
}

// ---- MATLAB level-5 writer (enough for cars_annos.mat: struct arrays, cells, chars, numbers)

/** A value the MAT writer can store. */
export type MatValue =
  | { t: 'char'; v: string }
  | { t: 'double'; v: number }
  | { t: 'uint8'; v: number }
  | { t: 'cell'; v: MatValue[] }
  | { t: 'struct'; fields: string[]; v: Record<string, MatValue>[] }

function element(type: number, data: Buffer): Buffer {
  const tag = Buffer.alloc(8)
  tag.writeInt32LE(type, 0)
  tag.writeInt32LE(data.length, 4)
  const pad = (8 - (data.length % 8)) % 8
  return Buffer.concat([tag, data, Buffer.alloc(pad)])
}

function int32s(values: number[]): Buffer {
  const b = Buffer.alloc(values.length * 4)
  values.forEach((v, i) => b.writeInt32LE(v, i * 4))
  return b
}

function matrix(value: MatValue, name = ''): Buffer {
  const MI_INT8 = 1
  const MI_UINT8 = 2
  const MI_UINT16 = 4
  const MI_INT32 = 5
  const MI_UINT32 = 6
  const MI_DOUBLE = 9
  const cls = { cell: 1, struct: 2, char: 4, double: 6, uint8: 9 }[value.t]
  const flags = Buffer.alloc(8)
  flags.writeUInt32LE(cls, 0)
  let dims: number[]
  const parts: Buffer[] = []
  switch (value.t) {
    case 'char': {
      dims = [1, value.v.length]
      const d = Buffer.alloc(value.v.length * 2)
      for (let i = 0; i < value.v.length; i++) d.writeUInt16LE(value.v.charCodeAt(i), i * 2)
      parts.push(element(MI_UINT16, d))
      break
    }
    case 'double': {
      dims = [1, 1]
      const d = Buffer.alloc(8)
      d.writeDoubleLE(value.v, 0)
      parts.push(element(MI_DOUBLE, d))
      break
    }
    case 'uint8':
      dims = [1, 1]
      parts.push(element(MI_UINT8, Buffer.from([value.v])))
      break
    case 'cell':
      dims = [1, value.v.length]
      for (const c of value.v) parts.push(matrix(c))
      break
    case 'struct': {
      dims = [1, value.v.length]
      const len = 32
      parts.push(element(MI_INT32, int32s([len])))
      const names = Buffer.alloc(len * value.fields.length)
      value.fields.forEach((f, i) => names.write(f, i * len, 'latin1'))
      parts.push(element(MI_INT8, names))
      for (const rec of value.v) for (const f of value.fields) parts.push(matrix(rec[f]))
      break
    }
  }
  const body = Buffer.concat([
    element(MI_UINT32, flags),
    element(MI_INT32, int32s(dims)),
    element(MI_INT8, Buffer.from(name, 'latin1')),
    ...parts
  ])
  return element(14, body)
}

/** Writes a MAT v5 file with the given top-level variables (optionally zlib-compressed). */
export function writeMat(file: string, vars: Record<string, MatValue>, compress = false): void {
  const header = Buffer.alloc(128, 0x20)
  header.write('MATLAB 5.0 MAT-file, written by the HIST Studio tests', 0, 'latin1')
  header.fill(0, 116, 124)
  header.writeUInt16LE(0x0100, 124)
  header.write('IM', 126, 'latin1')
  const elems = Object.entries(vars).map(([name, v]) => {
    const m = matrix(v, name)
    if (!compress) return m
    const z = deflateSync(m)
    const tag = Buffer.alloc(8)
    tag.writeInt32LE(15, 0)
    tag.writeInt32LE(z.length, 4)
    return Buffer.concat([tag, z])
  })
  mkdirSync(dirname(file), { recursive: true })
  writeFileSync(file, Buffer.concat([header, ...elems]))
}
