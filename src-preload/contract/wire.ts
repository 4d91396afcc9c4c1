/**
 * The web-mode wire protocol (the Electron transport mirrors it over IPC):
 * - `POST /api/<service>.<method>` with a JSON body (the payload; `{}` or empty for none).
 *   Token in `Authorization: Bearer <token>` or `x-hist-token`, or the session cookie.
 * - Success: HTTP 200 with `{ "result": <value> }` (`result` is omitted for void).
 * - Failure: 4xx/5xx with `{ "error": WireError }`; 400 for an invalid payload, 401 for a
 *   missing/wrong token, 404 for an unknown channel or id, 409 for a conflict, 413 for a too-large body, 503 for
 *   unavailable, 500 otherwise (see `STATUS_OF` in src-main/server/http.ts).
 * - `GET /events` upgrades to a WebSocket (token as `?token=` or the cookie) carrying one
 *   JSON AppEvent per message.
 * - `GET /media/<path>` serves dataset images and thumbnails (`image/<id>`, `thumb/<id>`).
 * - The initial page is opened as `/?token=<token>`; the server answers with an HttpOnly
 *   SameSite=Strict cookie `hist_token` so that assets, media and the socket need no header.
 */

/** The error body of a failed call, over both transports (defined with the error classes). */
export type { WireError } from './errors'

export const TOKEN_HEADER = 'x-hist-token'
export const TOKEN_COOKIE = 'hist_token'
export const API_PREFIX = '/api/'
export const EVENTS_PATH = '/events'
export const MEDIA_PREFIX = '/media/'
/** The Electron custom protocol for dataset images: `hist-media://image/<id>`. */
export const MEDIA_SCHEME = 'hist-media'
