import { probeWebGpu } from '../src-main/ml/backend/webgpu'
import * as tf from '@tensorflow/tfjs'
console.log('start')
const r = await probeWebGpu({ allowSoftware: true })
console.log('probe', r)
console.log(await tf.setBackend('webgpu'))
console.log(tf.getBackend())
