/** Reads a File as base64 (without the data: prefix), off the main thread via FileReader. */
export function readAsBase64(file: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const r = new FileReader()
    r.onerror = () => reject(r.error ?? new Error('could not read the file'))
    r.onload = () => {
      const s = String(r.result)
      resolve(s.slice(s.indexOf(',') + 1))
    }
    r.readAsDataURL(file)
  })
}

/** Largest image accepted for an external query (the contract allows ~22 MB of bytes). */
export const MAX_QUERY_BYTES = 20 * 1024 * 1024
