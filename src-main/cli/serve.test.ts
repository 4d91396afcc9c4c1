import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { parsePort } from './serve'

const root = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..')
const tsx = join(root, 'node_modules', '.bin', 'tsx')
const dirs: string[] = []

afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

describe('hist serve', () => {
  it('prints the URL with its token as JSON, serves the API, and exits cleanly on SIGTERM', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'hist-serve-'))
    dirs.push(dataDir)
    const child = spawn(tsx, ['src-main/cli.ts', 'serve', '--port', '0', '--json'], {
      cwd: root,
      env: { ...process.env, HIST_DATA_DIR: dataDir, HIST_BACKEND: 'cpu' },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let out = ''
    let err = ''
    child.stderr.on('data', (c: Buffer) => (err += c))
    const exited = new Promise<number | null>((resolve) =>
      child.on('exit', (code) => resolve(code))
    )
    const line = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (c: Buffer) => {
        out += c
        if (out.includes('\n')) resolve(out.split('\n')[0])
      })
      child.on('exit', () => reject(new Error(`serve exited early: ${err}`)))
    })
    const info = JSON.parse(line) as {
      url: string
      token: string
      port: number
      origin: string
      dataDir: string
    }
    expect(info.url).toBe(`http://127.0.0.1:${info.port}/?token=${info.token}`)
    expect(info.dataDir).toBe(dataDir)

    const unauth = await fetch(`${info.origin}/api/system.status`, { method: 'POST', body: '{}' })
    expect(unauth.status).toBe(401)
    const res = await fetch(`${info.origin}/api/system.status`, {
      method: 'POST',
      headers: { authorization: `Bearer ${info.token}`, 'content-type': 'application/json' },
      body: '{}'
    })
    const body = (await res.json()) as { result: { mode: string; dataDir: string } }
    expect(body.result.mode).toBe('web')
    expect(body.result.dataDir).toBe(dataDir)

    child.kill('SIGTERM')
    expect(await exited).toBe(0)
  })

  it('validates --port', () => {
    expect(parsePort('0')).toBe(0)
    expect(parsePort('8080')).toBe(8080)
    expect(() => parsePort('70000')).toThrow(/--port/)
    expect(() => parsePort('abc')).toThrow(/--port/)
  })
})
