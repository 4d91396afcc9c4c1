/**
 * The trainer process dies with its owner: an owner process starts a real trainer and is then
 * killed with SIGKILL (no chance to clean up); the trainer must exit on its own. Also checks
 * that the trainer validates what it receives.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { launchTrainer } from './trainerClient'
import type { FromTrainer } from '../trainer/protocol'

const here = dirname(fileURLToPath(import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'hist-owner-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

async function until(pred: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (pred()) return true
    await new Promise((r) => setTimeout(r, 50))
  }
  return pred()
}

describe('trainer process', () => {
  it('exits when its owner is killed with SIGKILL (no orphan)', async () => {
    const owner = join(dir, 'owner.ts')
    const client = pathToFileURL(join(here, 'trainerClient.ts')).href
    writeFileSync(
      owner,
      `import { launchTrainer } from ${JSON.stringify(client)}\n` +
        `const t = launchTrainer()\n` +
        `t.onMessage((m) => { if (m.type === 'ready') process.stdout.write('TRAINER ' + m.pid + '\\n') })\n` +
        `setInterval(() => {}, 1000)\n`
    )
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href
    const proc = spawn(process.execPath, ['--import', tsx, owner], {
      stdio: ['ignore', 'pipe', 'inherit']
    })
    const pid = await new Promise<number>((resolve, reject) => {
      let out = ''
      proc.stdout.on('data', (d: Buffer) => {
        out += d.toString()
        const m = /TRAINER (\d+)/.exec(out)
        if (m) resolve(Number(m[1]))
      })
      proc.on('exit', () => reject(new Error('the owner exited early')))
    })
    expect(alive(pid)).toBe(true)
    proc.kill('SIGKILL')
    expect(await until(() => !alive(pid), 10_000)).toBe(true)
  })

  it('answers an invalid command with an error log and keeps running until told to stop', async () => {
    const t = launchTrainer()
    const seen: FromTrainer[] = []
    t.onMessage((m) => void seen.push(m))
    const exited = new Promise<number | null>((r) => t.onExit(r))
    await until(() => seen.some((m) => m.type === 'ready'), 30_000)
    ;(t as unknown as { send(m: unknown): void }).send({ type: 'start', job: { runId: -1 } })
    expect(
      await until(() => seen.some((m) => m.type === 'log' && m.level === 'error'), 10_000)
    ).toBe(true)
    const err = seen.find((m) => m.type === 'log' && m.level === 'error') as Extract<
      FromTrainer,
      { type: 'log' }
    >
    expect(err.message).toMatch(/invalid message from the owner: job/)
    t.kill()
    await exited
  })
})
