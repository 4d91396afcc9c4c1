/**
 * Image-bomb memory check (issue 13, defect 1): a 16000×16000 PNG (~750 KB) sent three times at
 * once to each decode path. Each scenario runs in its own child process, so its peak RSS
 * (`process.resourceUsage().maxRSS`) and the RSS left afterwards are its own:
 * - `unbounded`: what the external query did before the fix (header, then a full raw decode
 *   with sharp's default limit lifted, as a 256 MP image needs);
 * - `query`: retrieval's loadQueryImage (refused from the header);
 * - `import`: the importer's per-file check (decodeCheck);
 * - `train`: the trainer's decodeImageU8 in 'train' mode.
 * Writes bench/results/image-bomb.json. Memory only, no timing asserts; the machine may be loaded.
 */
import { spawnSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import sharp from 'sharp'

const here = fileURLToPath(new URL('.', import.meta.url))
const SCENARIOS = ['unbounded', 'query', 'import', 'train'] as const
type Scenario = (typeof SCENARIOS)[number]

const mb = (bytes: number): number => Math.round(bytes / 1024 / 1024)

async function bombPng(): Promise<Buffer> {
  return sharp({ create: { width: 16000, height: 16000, channels: 3, background: '#808080' } })
    .png({ compressionLevel: 9 })
    .toBuffer()
}

/** One decode of the bomb by a scenario; resolves whether it was refused or not. */
async function attempt(s: Scenario, bomb: Buffer): Promise<string> {
  try {
    if (s === 'unbounded') {
      await sharp(bomb, { limitInputPixels: false }).metadata()
      await sharp(bomb, { limitInputPixels: false }).raw().toBuffer()
    } else if (s === 'query') {
      const { loadQueryImage } = await import('../src-main/retrieval/decode')
      await loadQueryImage({ dataBase64: bomb.toString('base64') })
    } else if (s === 'import') {
      const { decodeCheck } = await import('../src-main/datasets/validate')
      await decodeCheck(bomb)
    } else {
      const { decodeImageU8 } = await import('../src-main/ml/data/decode')
      const { createRng } = await import('../src-main/ml/util/rng')
      await decodeImageU8(bomb, 224, { mode: 'train', rng: createRng(1) })
    }
    return 'decoded'
  } catch (err) {
    return `refused: ${(err as Error).message.slice(0, 160)}`
  }
}

async function child(s: Scenario): Promise<void> {
  const bomb = await bombPng()
  global.gc?.()
  const before = process.memoryUsage().rss
  const outcomes = await Promise.all([0, 1, 2].map(() => attempt(s, bomb)))
  global.gc?.()
  await new Promise((r) => setTimeout(r, 500))
  const after = process.memoryUsage().rss
  const peak = process.resourceUsage().maxRSS * 1024
  console.log(
    JSON.stringify({
      scenario: s,
      beforeMB: mb(before),
      peakMB: mb(peak),
      afterMB: mb(after),
      outcome: outcomes[0]
    })
  )
}

function main(): void {
  const results = SCENARIOS.map((s) => {
    const r = spawnSync(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url), s],
      { encoding: 'utf8', cwd: join(here, '..'), timeout: 600_000 }
    )
    const line = r.stdout.trim().split('\n').pop() ?? ''
    try {
      return JSON.parse(line) as Record<string, unknown>
    } catch {
      return { scenario: s, error: (r.stderr || r.stdout).slice(-400) }
    }
  })
  const result = { bomb: '16000x16000 RGB PNG, 3 concurrent decodes', loadavg: loadavg(), results }
  console.log(JSON.stringify(result, null, 2))
  const outDir = join(here, 'results')
  mkdirSync(outDir, { recursive: true })
  writeFileSync(join(outDir, 'image-bomb.json'), JSON.stringify(result, null, 2) + '\n')
}

const arg = process.argv[2] as Scenario | undefined
if (arg && (SCENARIOS as readonly string[]).includes(arg)) {
  child(arg).catch((err) => {
    console.error(err)
    process.exitCode = 1
  })
} else {
  main()
}
