/** A worker for processLauncher.test.ts: echoes messages back with its args and env. */
import { connectToParent } from '../processLauncher'

const parent = connectToParent()
if (!parent) throw new Error('started without a parent')
parent.onMessage((msg) => {
  const m = msg as { type: string }
  if (m.type === 'exit') process.exit(3)
  parent.send({ type: 'echo', msg, args: process.argv.slice(2), env: process.env.HIST_TEST_VALUE })
})
parent.send({ type: 'ready' })
