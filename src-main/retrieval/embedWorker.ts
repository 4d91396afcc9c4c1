/**
 * Worker thread that embeds a run's images (the train rows of its dataset embeddings): loads
 * the network once, then answers each batch of paths with its rows, so TF.js never holds the
 * main process's event loop. One request at a time, in order.
 */
import { parentPort } from 'node:worker_threads'
import { initBackend } from '../ml/backend'
import type { EmbedReply, EmbedRequest } from './embedRunner'
import { loadNetwork, type Network } from './networkEmbed'

let net: Network | null = null

async function handle(msg: EmbedRequest): Promise<EmbedReply> {
  if (msg.type === 'load') {
    await initBackend()
    net = await loadNetwork(msg.spec)
    return { type: 'loaded', id: msg.id, dim: net.dim }
  }
  if (!net) throw new Error('the embedding worker has no model loaded')
  // A copy of its own: the backend's array may view memory that must not be transferred.
  const rows = Float32Array.from(await net.embed(msg.paths))
  return { type: 'rows', id: msg.id, rows }
}

const port = parentPort
if (!port) throw new Error('the embedding worker must run in a worker thread')
let chain: Promise<void> = Promise.resolve()
port.on('message', (msg: EmbedRequest) => {
  chain = chain.then(() =>
    handle(msg).then(
      (reply) =>
        port.postMessage(reply, reply.type === 'rows' ? [reply.rows.buffer as ArrayBuffer] : []),
      (err: Error) => port.postMessage({ type: 'error', id: msg.id, message: err.message })
    )
  )
})
