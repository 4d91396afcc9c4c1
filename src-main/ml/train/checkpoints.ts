/**
 * Checkpoint files: one self-contained binary file per checkpoint (weights of every trained
 * part, optimiser state, and the position in training as JSON). A file is written under a
 * temporary name, flushed to disk and renamed, so a reader only ever sees whole files; the
 * database points at a file only after the rename.
 *
 * Layout: "HISTCKP1" | uint32 LE header length | header JSON (utf8) | zero padding to 8 bytes |
 * tensor data (each tensor 8-byte aligned). The header holds a SHA-1 of the data block.
 */
import { createHash } from 'node:crypto'
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeSync
} from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { InvalidError } from '../../../src-preload/contract/errors'

const MAGIC = 'HISTCKP1'

/** A named array of numbers with its shape; float32 unless said otherwise. */
export interface NamedArray {
  name: string
  shape: number[]
  data: Float32Array | Int32Array
}

/** The parts a checkpoint holds, each a list of named arrays (order matters for some parts). */
export type CheckpointSections = Record<string, NamedArray[]>

/** A checkpoint in memory: JSON metadata plus array sections. */
export interface Checkpoint<M = unknown> {
  meta: M
  sections: CheckpointSections
}

interface HeaderTensor {
  section: string
  name: string
  shape: number[]
  dtype: 'float32' | 'int32'
  offset: number
  length: number
}

interface Header {
  version: 1
  meta: unknown
  sha1: string
  tensors: HeaderTensor[]
}

const align8 = (n: number): number => (n + 7) & ~7

/** Writes a checkpoint atomically (temp file, fsync, read-back check, rename, fsync of the folder). */
export function writeCheckpoint(file: string, ckpt: Checkpoint): void {
  mkdirSync(dirname(file), { recursive: true })
  const tensors: HeaderTensor[] = []
  const chunks: Buffer[] = []
  let offset = 0
  const hash = createHash('sha1')
  for (const [section, arrays] of Object.entries(ckpt.sections)) {
    for (const a of arrays) {
      const size = a.shape.reduce((p, d) => p * d, 1)
      if (size !== a.data.length) {
        throw new Error(
          `checkpoint ${section}/${a.name}: shape [${a.shape}] does not match ${a.data.length} values`
        )
      }
      const bytes = Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength)
      const padded = align8(bytes.length)
      tensors.push({
        section,
        name: a.name,
        shape: a.shape,
        dtype: a.data instanceof Int32Array ? 'int32' : 'float32',
        offset,
        length: a.data.length
      })
      chunks.push(bytes)
      hash.update(bytes)
      if (padded > bytes.length) {
        const pad = Buffer.alloc(padded - bytes.length)
        chunks.push(pad)
        hash.update(pad)
      }
      offset += padded
    }
  }
  const header: Header = { version: 1, meta: ckpt.meta, sha1: hash.digest('hex'), tensors }
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8')
  const lead = Buffer.alloc(align8(MAGIC.length + 4 + headerBytes.length))
  lead.write(MAGIC, 0, 'latin1')
  lead.writeUInt32LE(headerBytes.length, MAGIC.length)
  headerBytes.copy(lead, MAGIC.length + 4)

  const tmp = join(dirname(file), `.${basename(file)}.tmp-${process.pid}`)
  const fd = openSync(tmp, 'w')
  try {
    writeSync(fd, lead)
    for (const c of chunks) writeSync(fd, c)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  // Read it back and check the checksum before the name is taken: a checkpoint that reaches
  // its final name has been verified, so the previous one may be let go only after this.
  try {
    verifiedFile(file, readFileSync(tmp))
  } catch (err) {
    rmSync(tmp, { force: true })
    throw err
  }
  renameSync(tmp, file)
  // Make the rename itself durable; not every platform lets a folder be opened, hence the try.
  try {
    const dfd = openSync(dirname(file), 'r')
    fsyncSync(dfd)
    closeSync(dfd)
  } catch {
    /* best effort */
  }
}

/**
 * A checkpoint file that cannot be used: missing, foreign, truncated or damaged. The message
 * names the file and the problem, never the file's content.
 */
export class CheckpointError extends InvalidError {
  constructor(
    readonly file: string,
    readonly problem: string
  ) {
    super(`checkpoint ${file} ${problem}`)
    this.name = 'CheckpointError'
  }
}

/** A checkpoint's header and data block, checked against its checksum. */
interface VerifiedFile {
  header: Header
  data: Buffer
}

function verifiedFile(file: string, buf?: Buffer): VerifiedFile {
  if (!buf) {
    try {
      buf = readFileSync(file)
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      throw new CheckpointError(file, code === 'ENOENT' ? 'is missing' : 'cannot be read')
    }
  }
  if (buf.length < MAGIC.length + 4 || buf.toString('latin1', 0, MAGIC.length) !== MAGIC)
    throw new CheckpointError(file, 'is not a HIST Studio checkpoint (or is empty)')
  const hlen = buf.readUInt32LE(MAGIC.length)
  const start = MAGIC.length + 4
  if (start + hlen > buf.length) throw new CheckpointError(file, 'is truncated (header)')
  let header: Header
  try {
    header = JSON.parse(buf.toString('utf8', start, start + hlen)) as Header
  } catch {
    throw new CheckpointError(file, 'is damaged (unreadable header)')
  }
  if (!header || typeof header.sha1 !== 'string' || !Array.isArray(header.tensors))
    throw new CheckpointError(file, 'is damaged (unreadable header)')
  const data = buf.subarray(align8(start + hlen))
  const expected = header.tensors.reduce(
    (end, t) => Math.max(end, t.offset + align8(t.length * 4)),
    0
  )
  if (data.length < expected)
    throw new CheckpointError(file, `is truncated (${data.length} of ${expected} data bytes)`)
  const sha1 = createHash('sha1').update(data).digest('hex')
  if (sha1 !== header.sha1) throw new CheckpointError(file, 'is damaged (checksum mismatch)')
  return { header, data }
}

/**
 * Checks a checkpoint file against its checksum without building its arrays; returns its JSON
 * metadata. Throws CheckpointError for a missing, foreign, truncated or damaged file.
 */
export function verifyCheckpoint<M = unknown>(file: string): M {
  return verifiedFile(file).header.meta as M
}

/** Reads and verifies a checkpoint; throws CheckpointError for a damaged or foreign file. */
export function readCheckpoint<M = unknown>(file: string): Checkpoint<M> {
  const { header, data } = verifiedFile(file)
  const sections: CheckpointSections = {}
  for (const t of header.tensors) {
    const bytes = t.length * 4
    if (t.offset + bytes > data.length)
      throw new CheckpointError(file, `is truncated (${t.section}/${t.name})`)
    // Copy into a fresh, aligned buffer: the file buffer's offset need not be 4-aligned.
    const copy = new Uint8Array(bytes)
    copy.set(data.subarray(t.offset, t.offset + bytes))
    const arr = t.dtype === 'int32' ? new Int32Array(copy.buffer) : new Float32Array(copy.buffer)
    ;(sections[t.section] ??= []).push({ name: t.name, shape: t.shape, data: arr })
  }
  return { meta: header.meta as M, sections }
}

/** File name of the checkpoint taken after `epoch` epochs (and `batch` batches of the next). */
export function checkpointName(epoch: number, batch = 0): string {
  const e = String(epoch).padStart(4, '0')
  return batch > 0 ? `epoch-${e}-batch-${String(batch).padStart(6, '0')}.ckpt` : `epoch-${e}.ckpt`
}

/**
 * Deletes checkpoint files of a run folder that no row points at (older epochs), keeping the
 * given names. Leftover temporary files of a killed write go too when `temps` is set, which is
 * only safe while no trainer of this run is alive (it may be writing one).
 */
export function pruneCheckpoints(
  dir: string,
  keep: (string | null | undefined)[],
  temps = false
): void {
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch {
    return
  }
  const kept = new Set(keep.filter((k): k is string => !!k))
  for (const n of names) {
    const isCkpt = n.endsWith('.ckpt') || (temps && n.includes('.ckpt.tmp-'))
    if (isCkpt && !kept.has(n)) rmSync(join(dir, n), { force: true })
  }
}
