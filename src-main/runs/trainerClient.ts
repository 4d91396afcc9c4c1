/**
 * The owner's handle on a trainer process: started through the ProcessLauncher (utilityProcess
 * in Electron, child_process in Node), messages validated on receipt, and killed when the
 * owner exits so that it never outlives it.
 */
import { getEntryPath, getProcessLauncher, type ProcessLauncher } from '../common/processLauncher'
import { FromTrainer, parseMessage, type ToTrainer } from '../trainer/protocol'

/** A running trainer process as the owner sees it. */
export interface TrainerClient {
  /** OS process id (undefined until the launcher knows it). */
  readonly pid: number | undefined
  /** Sends a command to the trainer (dropped if it already exited). */
  send(msg: ToTrainer): void
  /** Ends the process at once. */
  kill(): void
  /** Every valid message from the trainer. */
  onMessage(listener: (msg: FromTrainer) => void): void
  /** A message that failed validation (the run treats it as a trainer fault). */
  onInvalid(listener: (err: Error) => void): void
  /** The process ended; code null means it was killed by a signal. */
  onExit(listener: (code: number | null) => void): void
}

/** Environment variable naming the owner's pid, which the trainer watches to die with it. */
export const PARENT_PID_ENV = 'HIST_TRAINER_PARENT_PID'

/** Starts a trainer process. */
export function launchTrainer(
  launcher: ProcessLauncher = getProcessLauncher(),
  entry: string = getEntryPath('trainer')
): TrainerClient {
  const child = launcher.fork(entry, [], { [PARENT_PID_ENV]: String(process.pid) })
  const messageListeners: ((m: FromTrainer) => void)[] = []
  const invalidListeners: ((e: Error) => void)[] = []
  const exitListeners: ((c: number | null) => void)[] = []
  let exited = false
  // The owner going away takes the trainer with it ('exit' handlers must be synchronous).
  const killOnExit = (): void => {
    if (!exited) child.kill()
  }
  process.once('exit', killOnExit)
  child.on('message', (raw) => {
    let msg: FromTrainer
    try {
      msg = parseMessage(FromTrainer, raw, 'the trainer')
    } catch (err) {
      for (const l of invalidListeners) l(err as Error)
      return
    }
    for (const l of messageListeners) l(msg)
  })
  child.on('exit', (code) => {
    exited = true
    process.off('exit', killOnExit)
    for (const l of exitListeners) l(code)
  })
  return {
    get pid() {
      return child.pid
    },
    send: (msg) => {
      if (!exited) child.send(msg)
    },
    kill: () => {
      if (!exited) child.kill()
    },
    onMessage: (l) => void messageListeners.push(l),
    onInvalid: (l) => void invalidListeners.push(l),
    onExit: (l) => void exitListeners.push(l)
  }
}
