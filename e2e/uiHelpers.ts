/**
 * Helpers shared by the renderer specs: tiny image folders made with sharp, direct API calls
 * (to set up trained runs quickly), and screenshots in both colour schemes.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Page } from '@playwright/test'
import sharp from 'sharp'
import type { RunDetail, TrainConfigInput } from '../src-preload/contract'
import { screenshot, type ServeInfo } from './fixtures'

/** Colours of the generated classes; each class also gets its own shape position. */
const COLORS = [
  { r: 220, g: 40, b: 40 },
  { r: 40, g: 160, b: 60 },
  { r: 40, g: 80, b: 220 },
  { r: 230, g: 180, b: 20 },
  { r: 150, g: 60, b: 190 },
  { r: 20, g: 170, b: 190 }
]

/** One small PNG: a coloured square on a noisy background, different per class and index. */
export async function makePng(classIdx: number, i: number, size = 48): Promise<Buffer> {
  const c = COLORS[classIdx % COLORS.length]
  const px = Buffer.alloc(size * size * 3)
  const off = 6 + ((classIdx * 7) % 16)
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const inside = x >= off && x < off + 20 && y >= off + (i % 4) && y < off + 20 + (i % 4)
      const n = ((x * 31 + y * 17 + i * 13) % 40) - 20
      const k = (y * size + x) * 3
      px[k] = inside ? c.r : 128 + n
      px[k + 1] = inside ? c.g : 128 + n
      px[k + 2] = inside ? c.b : 128 + n
    }
  }
  return sharp(px, { raw: { width: size, height: size, channels: 3 } })
    .png()
    .toBuffer()
}

/**
 * Writes `<root>/<class>/<n>.png` for each class; `corrupt` adds a file with a .png name that
 * is not an image (a problem the import must report).
 */
export async function makeImageFolder(
  root: string,
  classes: string[],
  perClass: number,
  corrupt?: string
): Promise<void> {
  for (const [ci, name] of classes.entries()) {
    mkdirSync(join(root, name), { recursive: true })
    for (let i = 0; i < perClass; i++)
      writeFileSync(join(root, name, `${i}.png`), await makePng(ci, i))
  }
  if (corrupt) writeFileSync(join(root, corrupt), Buffer.from('this is not a PNG file at all'))
}

/** Calls the API directly with the server's token. */
export async function api<T>(
  page: Page,
  server: ServeInfo,
  channel: string,
  payload: unknown = {}
): Promise<T> {
  const res = await page.request.post(`${server.origin}/api/${channel}`, {
    headers: { 'x-hist-token': server.token },
    data: payload
  })
  const body = (await res.json()) as { result?: T; error?: { message: string } }
  if (!res.ok()) throw new Error(`${channel}: ${body.error?.message ?? res.status()}`)
  return body.result as T
}

/** Imports a folder through the API and resolves with the new dataset id. */
export async function importFolder(
  page: Page,
  server: ServeInfo,
  path: string,
  name?: string
): Promise<number> {
  const { jobId } = await api<{ jobId: string }>(page, server, 'datasets.startImport', {
    path,
    name
  })
  for (let i = 0; i < 600; i++) {
    const list = await api<{ id: number; root: string }[]>(page, server, 'datasets.list')
    const found = list.find((d) => d.root === path || d.root.endsWith(path))
    if (found) return found.id
    await page.waitForTimeout(250)
  }
  throw new Error(`import ${jobId} did not finish`)
}

/** A quick training config: frozen MobileNetV2 head, 2 epochs, on a tiny dataset. */
export function quickConfig(
  datasetId: number,
  extra: Partial<TrainConfigInput> = {}
): TrainConfigInput {
  return {
    datasetId,
    backbone: { kind: 'mobilenetv2' },
    frozen: true,
    epochs: 2,
    batchSize: 8,
    embeddingSize: 64,
    hgnnHidden: 64,
    lr: 1e-3,
    modelSelection: 'test',
    ...extra
  }
}

/** Starts a run through the API and waits until it has finished. */
export async function trainRun(
  page: Page,
  server: ServeInfo,
  config: TrainConfigInput,
  timeoutMs = 240_000
): Promise<RunDetail> {
  const run = await api<{ id: number }>(page, server, 'runs.start', config)
  const end = Date.now() + timeoutMs
  while (Date.now() < end) {
    const d = await api<RunDetail>(page, server, 'runs.get', { id: run.id })
    if (d.status === 'completed') return d
    if (d.status === 'failed' || d.status === 'cancelled')
      throw new Error(
        `run ${run.id} ${d.status}: ${d.message ?? ''}\n${server.stderr().slice(-2000)}`
      )
    await page.waitForTimeout(500)
  }
  throw new Error(`run ${run.id} did not finish in ${timeoutMs} ms`)
}

/** Screenshots in the light and the dark scheme (the app follows prefers-color-scheme). */
export async function screenshotBoth(page: Page, name: string): Promise<void> {
  await page.emulateMedia({ colorScheme: 'light' })
  await page.waitForTimeout(150)
  await screenshot(page, `${name}-light`)
  await page.emulateMedia({ colorScheme: 'dark' })
  await page.waitForTimeout(300)
  await screenshot(page, `${name}-dark`)
  await page.emulateMedia({ colorScheme: 'light' })
}
