/**
 * Reading local files named by the user without ever echoing their content in an error.
 * Node's own messages can quote a file: `JSON.parse` of /etc/passwd says
 * `Unexpected token 'r', "root:x:0:0:"... is not valid JSON`. Errors here name the file and the
 * problem (missing, a folder, not readable, too large, not JSON) and nothing of what is inside.
 */
import { readFileSync, statSync } from 'node:fs'
import { InvalidError } from '../../../src-preload/contract/errors'

/** A local file the app could not use (400); the message names the file and the problem only. */
export class FileProblemError extends InvalidError {
  constructor(
    readonly file: string,
    readonly problem: string
  ) {
    super(`${file}: ${problem}`)
    this.name = 'FileProblemError'
  }
}

/** A short, content-free reason for a failed file system call. */
export function fsProblem(err: unknown): string {
  switch ((err as NodeJS.ErrnoException)?.code) {
    case 'ENOENT':
      return 'does not exist'
    case 'EISDIR':
      return 'is a folder, not a file'
    case 'ENOTDIR':
      return 'a part of the path is not a folder'
    case 'EACCES':
    case 'EPERM':
      return 'cannot be read (permission denied)'
    case 'ELOOP':
      return 'has too many symbolic links'
    default:
      return 'cannot be read'
  }
}

/** Reads a whole file, refusing folders and files over `maxBytes`; errors never quote content. */
export function readFileSafely(file: string, maxBytes: number): Buffer {
  let size: number
  try {
    const st = statSync(file)
    if (st.isDirectory()) throw new FileProblemError(file, 'is a folder, not a file')
    size = st.size
  } catch (err) {
    if (err instanceof FileProblemError) throw err
    throw new FileProblemError(file, fsProblem(err))
  }
  if (size > maxBytes)
    throw new FileProblemError(file, `is too large (${size} bytes; at most ${maxBytes} expected)`)
  try {
    return readFileSync(file)
  } catch (err) {
    throw new FileProblemError(file, fsProblem(err))
  }
}

/** Reads and parses a JSON file; `what` names the expected kind ("a TF.js model.json"). */
export function readJsonSafely(file: string, what: string, maxBytes = 64 * 2 ** 20): unknown {
  const text = readFileSafely(file, maxBytes).toString('utf8')
  try {
    return JSON.parse(text)
  } catch {
    // The SyntaxError's message quotes the text around the error; say only what was expected.
    throw new FileProblemError(file, `is not valid JSON (expected ${what})`)
  }
}
