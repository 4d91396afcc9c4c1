/**
 * Load benchmark of web mode: cheap reads (system.status, runs.list, datasets.list) at
 * concurrency 20 against `hist serve` on 127.0.0.1 (a separate process, as a user runs it),
 * first idle, then while a run trains in its trainer process. Each phase is bounded in count
 * (LOAD_REQUESTS, default 2000) and time (LOAD_SECONDS, default 30 s); a watchdog ends the
 * whole bench after 5 minutes whatever happens. Uses a temporary data folder with a 320-image
 * Omniglot subset (../shared/datasets) and a tiny frozen small-CNN run.
 * Writes bench/results/load.json: per phase p50/p99/max latency (ms), requests, errors,
 * requests per second, and the same per channel.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { closeContext, createContext } from '../src-main/app/context'
import { importDataset } from '../src-main/datasets/importer'
import { makeSmallDataset, REPO_ROOT, smallConfig } from '../src-main/runs/smallRuns.testutil'

const CONCURRENCY = 20
const MAX_REQUESTS = Number(process.env.LOAD_REQUESTS ?? 2000)
const MAX_SECONDS = Number(process.env.LOAD_SECONDS ?? 30)
const CHANNELS = ['system.status', 'runs.list', 'datasets.list'] as const
const WATCHDOG_MS = 5 * 60_000

interface Server {
  child: ChildProcess
  origin: string
  token: string
}

interface Stats {
  requests: number
  errors: number
  p50Ms: number
  p99Ms: number
  maxMs: number
}

const quantile = (sorted: number[], q: number): number =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : NaN
const round = (x: number): number => Math.round(x * 10) / 10

function stats(lat: number[], errors: number): Stats {
  const s = [...lat].sort((a, b) => a - b)
  return {
    requests: lat.length,
    errors,
    p50Ms: round(quantile(s, 0.5)),
    p99Ms: round(quantile(s, 0.99)),
    maxMs: round(s.at(-1) ?? NaN)
  }
}

/** Starts `hist serve --port 0 --json` and reads its origin and token. */
function startServer(dataDir: string): Promise<Server> {
  const child = spawn(
    process.execPath,
    [join(REPO_ROOT, 'src-main/bin/hist.mjs'), 'serve', '--port', '0', '--json'],
    { env: { ...process.env, HIST_DATA_DIR: dataDir }, stdio: ['ignore', 'pipe', 'inherit'] }
  )
  return new Promise((resolve, reject) => {
    let out = ''
    child.stdout!.on('data', (c) => {
      out += String(c)
      if (!out.includes('\n')) return
      const info = JSON.parse(out.split('\n')[0]) as { origin: string; token: string }
      resolve({ child, origin: info.origin, token: info.token })
    })
    child.on('exit', (code) => reject(new Error(`hist serve exited early (${code})`)))
  })
}

async function call<T>(srv: Server, channel: string, payload: unknown = {}): Promise<T> {
  const res = await fetch(`${srv.origin}/api/${channel}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${srv.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(payload)
  })
  const body = (await res.json()) as { result?: T; error?: { message: string } }
  if (!res.ok) throw new Error(`${channel}: ${res.status} ${body.error?.message}`)
  return body.result as T
}

/** One bounded phase: CONCURRENCY workers cycling through the channels. */
async function phase(srv: Server, maxRequests = MAX_REQUESTS): Promise<Record<string, unknown>> {
  const lat: Record<string, number[]> = Object.fromEntries(CHANNELS.map((c) => [c, []]))
  const errs: Record<string, number> = Object.fromEntries(CHANNELS.map((c) => [c, 0]))
  let issued = 0
  const t0 = performance.now()
  const deadline = t0 + MAX_SECONDS * 1000
  const worker = async (): Promise<void> => {
    while (issued < maxRequests && performance.now() < deadline) {
      const channel = CHANNELS[issued++ % CHANNELS.length]
      const t = performance.now()
      try {
        const res = await fetch(`${srv.origin}/api/${channel}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${srv.token}`, 'content-type': 'application/json' },
          body: '{}',
          signal: AbortSignal.timeout(10_000)
        })
        await res.arrayBuffer()
        if (res.ok) lat[channel].push(performance.now() - t)
        else errs[channel]++
      } catch {
        errs[channel]++
      }
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker))
  const seconds = (performance.now() - t0) / 1000
  const all = stats(
    CHANNELS.flatMap((c) => lat[c]),
    CHANNELS.reduce((n, c) => n + errs[c], 0)
  )
  return {
    ...all,
    seconds: round(seconds),
    requestsPerSec: round((all.requests + all.errors) / seconds),
    byChannel: Object.fromEntries(CHANNELS.map((c) => [c, stats(lat[c], errs[c])]))
  }
}

async function waitForTraining(srv: Server, id: number): Promise<void> {
  const until = Date.now() + 180_000
  while (Date.now() < until) {
    const r = await call<{ status: string; epochsDone: number; message: string | null }>(
      srv,
      'runs.get',
      { id }
    )
    if (r.status === 'running' && r.epochsDone >= 1) return
    if (r.status !== 'running' && r.status !== 'queued')
      throw new Error(`the run ended before the load phase: ${r.status} ${r.message ?? ''}`)
    await new Promise((res) => setTimeout(res, 500))
  }
  throw new Error('the run did not finish its first epoch within 3 minutes')
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'hist-load-'))
  const dataDir = join(dir, 'data')
  let srv: Server | null = null
  const watchdog = setTimeout(() => {
    console.error(`bench:load: watchdog after ${WATCHDOG_MS / 1000} s; stopping`)
    srv?.child.kill('SIGKILL')
    process.exit(1)
  }, WATCHDOG_MS)
  try {
    makeSmallDataset(join(dir, 'omni'))
    const ctx = createContext(dataDir, 'cli')
    const ds = await importDataset(ctx, { path: join(dir, 'omni'), format: 'folder' })
    closeContext(ctx)
    srv = await startServer(dataDir)
    await phase(srv, 200) // warm-up (JIT, connections), not reported
    const idle = await phase(srv)
    console.log(`idle: ${JSON.stringify({ ...idle, byChannel: undefined })}`)
    const run = await call<{ id: number }>(
      srv,
      'runs.start',
      smallConfig(ds.dataset.id, { epochs: 1000, name: 'load bench' })
    )
    await waitForTraining(srv, run.id)
    const training = await phase(srv)
    const after = await call<{ status: string; epochsDone: number }>(srv, 'runs.get', {
      id: run.id
    })
    console.log(`training: ${JSON.stringify({ ...training, byChannel: undefined })}`)
    await call(srv, 'runs.stop', { id: run.id })
    const out = {
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, loadavg1m: round(loadavg()[0]) },
      concurrency: CONCURRENCY,
      limits: { requests: MAX_REQUESTS, seconds: MAX_SECONDS },
      channels: CHANNELS,
      idle,
      training: {
        ...training,
        runStillTraining: after.status === 'running',
        epochsDuringLoad: after.epochsDone
      }
    }
    mkdirSync(join(REPO_ROOT, 'bench', 'results'), { recursive: true })
    writeFileSync(join(REPO_ROOT, 'bench', 'results', 'load.json'), JSON.stringify(out, null, 2))
    console.log('wrote bench/results/load.json')
  } finally {
    if (srv) {
      const exited = new Promise((r) => srv!.child.once('exit', r))
      srv.child.kill('SIGTERM')
      await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))])
      srv.child.kill('SIGKILL')
    }
    clearTimeout(watchdog)
    rmSync(dir, { recursive: true, force: true })
  }
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
