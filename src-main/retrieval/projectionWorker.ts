/**
 * Worker-thread entry of the embedding map: receives one projection job, reports UMAP progress,
 * answers with the coordinates (transferred, not copied) or an error message, then the parent
 * terminates it.
 */
import { parentPort } from 'node:worker_threads'
import { projectRows } from './projectionJob'
import type { ProjectionReply, ProjectionRequest } from './projectionRunner'

if (parentPort) {
  const port = parentPort
  port.on('message', (msg: ProjectionRequest) => {
    try {
      const res = projectRows(msg.method, msg.data, msg.n, msg.d, {
        seed: msg.seed,
        fitLimit: msg.fitLimit,
        onProgress: (done, total) => {
          const reply: ProjectionReply = { type: 'progress', done, total }
          port.postMessage(reply)
        }
      })
      const reply: ProjectionReply = { type: 'done', coords: res.coords, fitted: res.fitted }
      port.postMessage(reply, [res.coords.buffer as ArrayBuffer])
    } catch (err) {
      const reply: ProjectionReply = {
        type: 'error',
        message: err instanceof Error ? err.message : String(err)
      }
      port.postMessage(reply)
    }
  })
}
