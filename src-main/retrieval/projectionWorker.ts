/**
 * Worker-thread entry of the embedding map: receives one projection job, answers with the
 * coordinates (transferred, not copied) or an error message, then the parent terminates it.
 */
import { parentPort } from 'node:worker_threads'
import { project } from './projection'
import type { ProjectionReply, ProjectionRequest } from './projectionRunner'

if (parentPort) {
  const port = parentPort
  port.on('message', (msg: ProjectionRequest) => {
    try {
      const coords = project(msg.method, msg.data, msg.n, msg.d, { seed: msg.seed })
      const reply: ProjectionReply = { type: 'done', coords }
      port.postMessage(reply, [coords.buffer as ArrayBuffer])
    } catch (err) {
      const reply: ProjectionReply = {
        type: 'error',
        message: err instanceof Error ? err.message : String(err)
      }
      port.postMessage(reply)
    }
  })
}
