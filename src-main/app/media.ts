/**
 * Media (dataset images and thumbnails) as both transports serve it: web mode under
 * `/media/<path>`, Electron under `hist-media://<path>`. Paths are `image/<imageId>`,
 * `thumb/<imageId>` and `file/<datasetId>/<relPath>`; the datasets code resolves them.
 */

/** A resolved media request, ready to send. */
export interface MediaReply {
  status: number
  contentType: string
  body: Uint8Array | string
  /** Extra response headers (e.g. ETag). */
  headers?: Record<string, string>
}

/** Resolves a media path (without the `/media/` prefix or scheme) to a reply. */
export type MediaSource = (path: string) => Promise<MediaReply>
