/** Connects the datasets code's media resolver to both transports (web mode and hist-media:). */
import { readFile } from 'node:fs/promises'
import { resolveMedia } from '../datasets/media'
import type { AppContext } from '../app/context'
import type { MediaReply, MediaSource } from '../app/media'

/**
 * The media source of a context. Paths arrive still URL-encoded (`file/3/a%20b.png`): the
 * resolver decodes each segment exactly once, so a literal '%' in a file name survives.
 */
export function createMediaSource(ctx: AppContext): MediaSource {
  return async (path: string): Promise<MediaReply> => {
    const found = await resolveMedia(ctx, path)
    if (!found.ok)
      return { status: found.status, contentType: 'text/plain; charset=utf-8', body: found.message }
    try {
      return { status: 200, contentType: found.contentType, body: await readFile(found.filePath) }
    } catch {
      return {
        status: 404,
        contentType: 'text/plain; charset=utf-8',
        body: 'the image file is missing'
      }
    }
  }
}
