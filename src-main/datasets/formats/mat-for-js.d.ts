// mat-for-js ships no types; this is the part of its API the Cars196 reader uses.
declare module 'mat-for-js' {
  /** Parses a MATLAB level-5 MAT-file into `{ header, data: { <variable name>: value } }`. */
  export function read(data: ArrayBuffer): { header: string; data: Record<string, unknown> }
}
