import { initBackend, describeBackend } from '../src-main/ml/backend'
const dev = process.argv[2] as any
try { const r = await initBackend(dev ? { device: dev } : {}); console.log(JSON.stringify(r)); console.log(describeBackend(r).join('\n')) } catch (e) { console.log('ERR', (e as Error).name, (e as Error).message) }
