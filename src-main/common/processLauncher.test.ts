import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import {
  connectToParent,
  getEntryPath,
  getProcessLauncher,
  nodeProcessLauncher,
  setEntryPath,
  setProcessLauncher,
  type ChildLike,
  type ProcessLauncher
} from './processLauncher'

const worker = join(fileURLToPath(new URL('.', import.meta.url)), 'testdata', 'echoWorker.ts')

function nextMessage(child: ChildLike): Promise<unknown> {
  return new Promise((resolve) => {
    const seen = new Set<unknown>()
    child.on('message', (m) => {
      if (!seen.size) resolve(m)
      seen.add(m)
    })
  })
}

afterEach(() => {
  setProcessLauncher(null)
  setEntryPath('trainer', null)
})

describe('processLauncher', () => {
  it('forks a TypeScript module through tsx and exchanges plain messages both ways', async () => {
    const child = nodeProcessLauncher.fork(worker, ['--alpha'], { HIST_TEST_VALUE: 'from-parent' })
    const messages: unknown[] = []
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve))
    const ready = nextMessage(child)
    child.on('message', (m) => messages.push(m))
    expect(await ready).toEqual({ type: 'ready' })
    expect(child.pid).toBeGreaterThan(0)
    const echoed = new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (messages.length >= 2) {
          clearInterval(check)
          resolve()
        }
      }, 10)
    })
    child.send({ type: 'ping', n: 1 })
    await echoed
    expect(messages[1]).toEqual({
      type: 'echo',
      msg: { type: 'ping', n: 1 },
      args: ['--alpha'],
      env: 'from-parent'
    })
    child.send({ type: 'exit' })
    expect(await exited).toBe(3)
  })

  it('kill() ends the child', async () => {
    const child = nodeProcessLauncher.fork(worker, [], {})
    await nextMessage(child)
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve))
    child.kill()
    expect(await exited).toBeNull()
  })

  it('lets the shell install its own launcher and entry paths', () => {
    expect(getProcessLauncher()).toBe(nodeProcessLauncher)
    const custom: ProcessLauncher = { fork: () => ({}) as ChildLike }
    setProcessLauncher(custom)
    expect(getProcessLauncher()).toBe(custom)
    expect(getEntryPath('trainer')).toMatch(/src-main[\\/]trainer[\\/]entry\.ts$/)
    setEntryPath('trainer', '/app/out/main/trainer.js')
    expect(getEntryPath('trainer')).toBe('/app/out/main/trainer.js')
  })

  it('connectToParent is null in a process started stand-alone', () => {
    // vitest's forks pool gives this process an IPC channel, so hide it for the check.
    const send = process.send
    process.send = undefined
    try {
      expect(connectToParent()).toBeNull()
    } finally {
      process.send = send
    }
  })
})
