/**
 * Model export end to end: two tiny real runs (frozen and fine-tuned small CNN, one epoch on 16
 * Omniglot characters) exported with `runs.exportRun({ format: 'tfjs' })`, then loaded in a
 * FRESH Node process by examples/embed-node.mjs (plain @tensorflow/tfjs + sharp, no app code),
 * which must reproduce the app's embeddings (loadRunModel) to 1e-5. Web mode downloads the same
 * files as a zip from `/download/model/<runId>.zip` (token required).
 */
import { execFile } from 'node:child_process'
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import * as tf from '@tensorflow/tfjs'
import { unzipSync } from 'fflate'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { initBackend } from '../ml/backend'
import { closeContext, createContext, type AppContext } from '../app/context'
import { importDataset } from '../datasets/importer'
import { loadRunModel } from '../runs/inference'
import { makeSmallDataset, REPO_ROOT, smallConfig } from '../runs/smallRuns.testutil'
import { createRunsService } from '../services/runs'
import { atEdge, stubService, type AtEdge } from '../services/services.testutil'
import { createDownloadSource } from './downloads'
import { startServer } from './index'

const run = promisify(execFile)

let dir: string
let ctx: AppContext
let runs: AtEdge<'runs', ReturnType<typeof createRunsService>>
const runIds: Record<'frozen' | 'fineTuned', number> = { frozen: 0, fineTuned: 0 }
let images: string[]

beforeAll(async () => {
  await initBackend()
  dir = mkdtempSync(join(tmpdir(), 'hist-modelexport-'))
  const root = join(dir, 'ds')
  makeSmallDataset(root)
  ctx = createContext(join(dir, 'data'), 'cli')
  const { dataset } = await importDataset(ctx, { path: root, format: 'folder' })
  runs = atEdge('runs', createRunsService(ctx))
  for (const [key, frozen] of [
    ['frozen', true],
    ['fineTuned', false]
  ] as const) {
    const r = await runs.start(smallConfig(dataset.id, { frozen, epochs: 1, warm: 0 }))
    expect(await runs.waitFor(r.id)).toBe('completed')
    runIds[key] = r.id
  }
  const latin = readdirSync(root)
    .filter((c) => c.startsWith('Latin'))
    .slice(0, 2)
  images = latin.flatMap((c) =>
    readdirSync(join(root, c))
      .slice(0, 2)
      .map((f) => join(root, c, f))
  )
}, 600_000)

afterAll(async () => {
  await runs?.shutdown()
  closeContext(ctx)
  rmSync(dir, { recursive: true, force: true })
})

async function appEmbeddings(id: number): Promise<Float32Array> {
  const model = await loadRunModel(ctx, id)
  try {
    return await model.embed(images)
  } finally {
    model.dispose()
  }
}

async function freshProcessEmbeddings(out: string): Promise<number[][]> {
  const { stdout } = await run(
    process.execPath,
    [join(REPO_ROOT, 'examples', 'embed-node.mjs'), out, ...images],
    { cwd: REPO_ROOT, maxBuffer: 16 * 1024 * 1024 }
  )
  return JSON.parse(stdout) as number[][]
}

describe('runs.exportRun format tfjs', () => {
  for (const key of ['frozen', 'fineTuned'] as const) {
    it(`a ${key} run's export reproduces the app's embeddings in a fresh process`, async () => {
      const out = join(dir, `export-${key}`)
      const before = tf.memory().numTensors
      const res = await runs.exportRun({ id: runIds[key], outDir: out, format: 'tfjs' })
      expect(tf.memory().numTensors).toBe(before)
      expect(res.files).toEqual(['model.json', 'group1-shard1of1.bin', 'preprocessing.json'])
      const json = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'))
      expect(json.format).toBe('layers-model')
      const pre = JSON.parse(readFileSync(join(out, 'preprocessing.json'), 'utf8'))
      expect(json.userDefinedMetadata.preprocessing).toEqual(pre)
      expect(pre).toMatchObject({ inputSize: 32, resize: 'cover', mean: [0.5, 0.5, 0.5] })

      const app = await appEmbeddings(runIds[key])
      const fresh = await freshProcessEmbeddings(out)
      expect(fresh.length).toBe(images.length)
      let maxDiff = 0
      fresh.forEach((row, i) => {
        expect(row.length).toBe(32)
        row.forEach((v, k) => (maxDiff = Math.max(maxDiff, Math.abs(v - app[i * 32 + k]))))
      })
      expect(maxDiff).toBeLessThan(1e-5)
    }, 120_000)
  }

  it('the fine-tuned export carries the trained backbone, not the seeded init', async () => {
    const a = readFileSync(join(dir, 'export-frozen', 'group1-shard1of1.bin'))
    const b = readFileSync(join(dir, 'export-fineTuned', 'group1-shard1of1.bin'))
    expect(a.length).toBe(b.length)
    expect(a.equals(b)).toBe(false)
  })

  it('refuses to overwrite a folder holding other files, and replaces a previous export', async () => {
    const out = join(dir, 'busy')
    mkdirSync(out)
    writeFileSync(join(out, 'notes.txt'), 'keep me')
    await expect(
      runs.exportRun({ id: runIds.frozen, outDir: out, format: 'tfjs' })
    ).rejects.toThrow(/is not empty \(notes\.txt\)/)
    expect(readFileSync(join(out, 'notes.txt'), 'utf8')).toBe('keep me')
    const again = join(dir, 'export-frozen')
    await runs.exportRun({ id: runIds.frozen, outDir: again, format: 'tfjs' })
    expect(existsSync(join(again, 'model.json'))).toBe(true)
  })

  it('web mode serves the export as a zip behind the token', async () => {
    const services = {
      runs: stubService('runs'),
      datasets: stubService('datasets'),
      retrieval: stubService('retrieval'),
      system: stubService('system'),
      experiments: stubService('experiments'),
      explain: stubService('explain'),
      audit: stubService('audit')
    }
    const server = await startServer({
      services,
      events: ctx.events,
      staticDir: null,
      downloads: createDownloadSource(ctx)
    })
    try {
      const url = `${server.origin}/download/model/${runIds.fineTuned}.zip`
      expect((await fetch(url)).status).toBe(401)
      const missing = await fetch(`${server.origin}/download/model/99999.zip`, {
        headers: { authorization: `Bearer ${server.token}` }
      })
      expect(missing.status).toBe(404)
      const res = await fetch(url, { headers: { authorization: `Bearer ${server.token}` } })
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toBe('application/zip')
      expect(res.headers.get('content-disposition')).toMatch(/attachment; filename=".+\.zip"/)
      const files = unzipSync(new Uint8Array(await res.arrayBuffer()))
      expect(Object.keys(files).sort()).toEqual(
        ['group1-shard1of1.bin', 'model.json', 'preprocessing.json'].sort()
      )
      const direct = join(dir, 'export-fineTuned')
      for (const [name, bytes] of Object.entries(files))
        expect(Buffer.from(bytes).equals(readFileSync(join(direct, name)))).toBe(true)
    } finally {
      await server.close()
    }
  }, 120_000)
})
