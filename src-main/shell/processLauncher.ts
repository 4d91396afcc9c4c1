/** The Electron process launcher: workers run as utility processes owned by the app. */
import { utilityProcess } from 'electron'
import type { ChildLike, ProcessLauncher } from '../common/processLauncher'

/** A launcher based on utilityProcess.fork, plus `killAll` for shutdown. */
export interface UtilityProcessLauncher extends ProcessLauncher {
  /** Kills every worker still running (called when the app quits). */
  killAll(): void
}

/** Creates the launcher the shell installs with `setProcessLauncher`. */
export function createUtilityProcessLauncher(): UtilityProcessLauncher {
  const live = new Set<ChildLike>()
  return {
    fork(modulePath, args, env) {
      if (/\.(c|m)?ts$/.test(modulePath)) {
        throw new Error(`utility processes run built JavaScript, not ${modulePath}`)
      }
      const proc = utilityProcess.fork(modulePath, args, {
        env: { ...process.env, ...env },
        serviceName: 'HIST Studio worker',
        stdio: 'inherit'
      })
      const child: ChildLike = {
        send: (msg) => proc.postMessage(msg),
        on(event: 'message' | 'exit', listener: (arg: never) => void) {
          if (event === 'message') proc.on('message', listener as (m: unknown) => void)
          else proc.on('exit', listener as (code: number) => void)
          return child
        },
        kill: () => {
          proc.kill()
        },
        get pid() {
          return proc.pid
        }
      }
      live.add(child)
      proc.on('exit', () => live.delete(child))
      return child
    },
    killAll() {
      for (const c of live) c.kill()
      live.clear()
    }
  }
}
