/**
 * The trainer process. Started by the owner (main process, CLI, web server) through the
 * ProcessLauncher: a utilityProcess in Electron, child_process.fork in Node. It takes one job
 * ('start' or 'probe'), reports plain-data messages, and exits when the job ends. It dies with
 * its owner: on 'disconnect' (child_process) and when the owner's pid disappears (both kinds).
 */
import { connectToParent, type ParentLink } from '../common/processLauncher'
import { parseMessage, ToTrainer, type FromTrainer } from './protocol'
import { toWireError } from '../../src-preload/contract/errors'

const PARENT_PID_ENV = 'HIST_TRAINER_PARENT_PID'

function watchParent(): void {
  process.on('disconnect', () => process.exit(0))
  const parent = Number(process.env[PARENT_PID_ENV]) || process.ppid
  const timer = setInterval(() => {
    try {
      process.kill(parent, 0)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EPERM') process.exit(0)
    }
    // Re-parented to init/a subreaper: the owner is gone even if its pid was reused.
    if (process.ppid !== parent && process.ppid === 1) process.exit(0)
  }, 500)
  timer.unref()
}

async function main(link: ParentLink): Promise<void> {
  const send = (msg: FromTrainer): void => link.send(msg)
  const abort = new AbortController()
  let pauseRequested = false
  let started = false
  link.onMessage((raw) => {
    let msg: ToTrainer
    try {
      msg = parseMessage(ToTrainer, raw, 'the owner')
    } catch (err) {
      send({ type: 'log', level: 'error', message: (err as Error).message })
      return
    }
    if (msg.type === 'pause') pauseRequested = true
    else if (msg.type === 'stop') abort.abort()
    else if (started)
      send({ type: 'log', level: 'error', message: 'the trainer runs one job per process' })
    else {
      started = true
      void runJob(msg, send, { signal: abort.signal, pauseRequested: () => pauseRequested })
    }
  })
  send({ type: 'ready', pid: process.pid })
}

async function runJob(
  msg: Extract<ToTrainer, { type: 'start' | 'probe' }>,
  send: (m: FromTrainer) => void,
  control: { signal: AbortSignal; pauseRequested(): boolean }
): Promise<void> {
  let code = 0
  try {
    // Loaded lazily so that a bad message is answered before TensorFlow.js starts up.
    const pipeline = await import('./pipeline')
    if (msg.type === 'start') await pipeline.runTraining(msg.job, send, control)
    else
      send({
        type: 'probeResult',
        result: await pipeline.probeRun(msg.job, control, { trainerProcess: true })
      })
  } catch (err) {
    code = 1
    const wire = toWireError(err)
    send({ type: 'failed', ...wire })
    // An expected error (bad config, missing file…) is its message; a bug, or `hist --verbose`,
    // also gets the stack.
    const stack = (err as Error)?.stack
    if (stack && (wire.code === 'internal' || process.env.HIST_VERBOSE === '1')) {
      process.stderr.write(`trainer: ${stack}\n`)
    }
  }
  // Give the IPC channel a moment to flush the last messages, then leave.
  setTimeout(() => process.exit(code), 200)
}

const link = connectToParent()
if (!link) {
  process.stderr.write('The trainer process is started by HIST Studio, not directly.\n')
  process.exit(2)
} else {
  watchParent()
  void main(link)
}
