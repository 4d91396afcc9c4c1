/**
 * `hist train --device gpu` end to end on the demo's images (Fashion-MNIST, fewer of them so
 * that the software adapter stays quick): the real bin, a real trainer process on webgpu, and
 * metrics at the end; the run records the device. With no adapter, `--device gpu` is a clear
 * error before any run is queued, not a silent CPU run. `hist system --device gpu --json`
 * reports the adapter.
 */
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FASHION_MNIST_CLASSES, readFashionMnistRows } from '../datasets/demo'
import { webgpuTestEnv } from '../ml/backend/webgpuEnv.testutil'
import { REPO_ROOT } from '../runs/smallRuns.testutil'

const skip = webgpuTestEnv()
if (skip) console.warn(`hist train --device gpu tests skipped: ${skip}`)

const PER_CLASS = 12
let dir: string
let images: string

interface Exit {
  code: number | null
  out: string
  err: string
}

function hist(args: string[], env: Record<string, string> = {}): Promise<Exit> {
  return new Promise((resolve) => {
    const cp = spawn(process.execPath, [join(REPO_ROOT, 'src-main/bin/hist.mjs'), ...args], {
      env: {
        ...process.env,
        HIST_DATA_DIR: join(dir, 'data'),
        HIST_VERBOSE: '',
        HIST_BACKEND: '',
        HIST_DEVICE: '',
        ...env
      },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let out = ''
    let err = ''
    cp.stdout.on('data', (c) => (out += String(c)))
    cp.stderr.on('data', (c) => (err += String(c)))
    cp.on('exit', (code) => resolve({ code, out, err }))
  })
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hist-cli-gpu-'))
  images = join(dir, 'fashion-small')
  for (let label = 0; label < FASHION_MNIST_CLASSES.length; label++) {
    const cls = join(images, FASHION_MNIST_CLASSES[label])
    mkdirSync(cls, { recursive: true })
    const rows = await readFashionMnistRows(label, PER_CLASS)
    for (const [i, row] of rows.entries()) {
      const png = await sharp(Buffer.from(row), { raw: { width: 28, height: 28, channels: 1 } })
        .png()
        .toBuffer()
      writeFileSync(join(cls, `${i}.png`), png)
    }
  }
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const short = ['--backbone', 'small-cnn', '--frozen', '--epochs', '1', '--model-selection', 'test']

describe.skipIf(skip !== null)('hist train --device gpu', () => {
  it('reports the adapter in hist system --device gpu --json', async () => {
    const r = await hist(['system', '--device', 'gpu', '--json'])
    expect(r.code, r.err).toBe(0)
    const s = JSON.parse(r.out)
    expect(s.backend).toMatchObject({ active: 'webgpu', device: 'gpu', requested: 'gpu' })
    expect(s.backend.adapter.software).toBe(true)
  })

  it('trains on webgpu and finishes with metrics; the run records the device', async () => {
    const r = await hist([
      'train',
      '--dataset',
      images,
      ...short,
      '--batch-size',
      '16',
      '--device',
      'gpu',
      '--json'
    ])
    expect(r.code, `${r.out}\n${r.err}`).toBe(0)
    const run = JSON.parse(r.out)
    expect(run.status).toBe('completed')
    expect(run.config.device).toBe('gpu')
    expect(run.backend).toMatch(/^webgpu \(google swiftshader .*, software\)$/)
    expect(run.testMetrics.recall['1']).toBeGreaterThan(0)
    expect(run.baselineMetrics.recall['1']).toBeGreaterThan(0)
  }, 1_200_000)

  it('refuses --device gpu with no adapter, naming why, and queues no run', async () => {
    const count = async (): Promise<number> =>
      JSON.parse((await hist(['runs', '--json'])).out).length
    const before = await count()
    const r = await hist(['train', '--dataset', images, ...short, '--device', 'gpu'], {
      VK_ICD_FILENAMES: '/nonexistent/icd.json'
    })
    expect(r.code).toBe(1)
    expect(r.err).toMatch(/no usable GPU: .*VK_ICD_FILENAMES names \/nonexistent\/icd\.json/)
    expect(r.out).not.toMatch(/queued/)
    expect(await count()).toBe(before)
  }, 300_000)

  it('rejects an unknown device as a usage error', async () => {
    const r = await hist(['train', '--dataset', images, ...short, '--device', 'tpu'])
    expect(r.code).toBe(2)
    expect(r.err).toMatch(/--device must be one of auto, gpu, cpu, got "tpu"/)
  })
})
