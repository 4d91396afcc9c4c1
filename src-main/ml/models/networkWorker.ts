/**
 * Worker thread that embeds images with a run's network (networkRunner.ts is its client): loads
 * the network once, then answers each batch of paths with its rows, so that TF.js never holds
 * the main process's event loop (Electron's IPC, the web server). One request at a time, in
 * order. Built as its own entry, `networkWorker.js` (electron.vite.config.ts).
 */
import { parentPort } from 'node:worker_threads'
import { initBackend } from '../backend'
import type { NetworkReply, NetworkRequest } from './networkRunner'
import { loadNetwork, type Network } from './runNetwork'

let net: Network | null = null

async function handle(msg: NetworkRequest): Promise<NetworkReply> {
  if (msg.type === 'load') {
    await initBackend()
    net = await loadNetwork(msg.spec, { label: msg.label })
    return { type: 'loaded', id: msg.id, dim: net.dim }
  }
  if (!net) throw new Error('the network worker has no model loaded')
  // A copy of its own: the backend's array may view memory that must not be transferred.
  const rows = Float32Array.from(await net.embed(msg.paths))
  return { type: 'rows', id: msg.id, rows }
}

const port = parentPort
if (!port) throw new Error('the network worker must run in a worker thread')
let chain: Promise<void> = Promise.resolve()
port.on('message', (msg: NetworkRequest) => {
  chain = chain.then(() =>
    handle(msg).then(
      (reply) =>
        port.postMessage(reply, reply.type === 'rows' ? [reply.rows.buffer as ArrayBuffer] : []),
      (err: Error) => port.postMessage({ type: 'error', id: msg.id, message: err.message })
    )
  )
})
