#!/usr/bin/env node
// The `hist` bin: runs the TypeScript CLI through tsx, so no build step is needed.
import { register } from 'tsx/esm/api'

register()
const { main } = await import('../cli.ts')
process.exitCode = await main(process.argv)
