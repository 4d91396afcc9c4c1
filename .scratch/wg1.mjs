import { create, globals } from 'webgpu'
Object.assign(globalThis, globals)
const gpu = create([])
if (!globalThis.navigator) globalThis.navigator = {}
Object.defineProperty(globalThis.navigator, 'gpu', { value: gpu, configurable: true })
const tf = await import('@tensorflow/tfjs')
await import('@tensorflow/tfjs-backend-webgpu')
const t0=Date.now()
console.log(await tf.setBackend('webgpu'), tf.getBackend(), Date.now()-t0)
const b = tf.backend()
console.log(b.adapterInfo, Object.keys(b).slice(0,30))
const a = tf.randomNormal([64,64]); const w = tf.variable(tf.randomNormal([64,8]))
const {value, grads} = tf.variableGrads(() => tf.sum(tf.square(tf.matMul(a, w))))
console.log(await value.data(), (await grads[w.name].data()).slice(0,3))
try { console.log(value.dataSync()) } catch(e) { console.log('dataSync err', e.message) }
const z = tf.add(a, 1)
try { console.log(z.dataSync().length) } catch(e) { console.log('dataSync err', e.message) }
console.log('adapterInfo', b.adapterInfo, 'ad', b.device.adapterInfo)
