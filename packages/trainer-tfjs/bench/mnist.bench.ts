/**
 * Reference CNN on full MNIST: 2 epochs on wasm, test accuracy and wall time per epoch.
 * Run: npx tsx bench/mnist.bench.ts [epochs]
 */
import { selectBackend } from '../src/backend.js'
import { loadMnist, splitDataset } from '../src/data/index.js'
import { buildNetwork } from '../src/models/index.js'
import { evaluateAccuracy, trainNetwork } from '../src/train/index.js'

const epochs = Number(process.argv[2] ?? 2)
const trainSize = process.argv[3] === undefined ? undefined : Number(process.argv[3])
await selectBackend({ backend: (process.env.NASKIT_BACKEND as 'wasm') ?? 'wasm' })
const ds = loadMnist()
const splits = splitDataset(ds, { validationSize: 5000, trainSize, seed: 1 })
export const REFERENCE_CNN = {
  blocks: [
    { kernel: 3, channels: 16, skip: false },
    { kernel: 3, channels: 32, skip: false },
    { kernel: 3, channels: 64, skip: true },
    { kernel: 3, channels: 64, skip: true },
  ],
}
const net = buildNetwork(REFERENCE_CNN, {
  inputShape: [28, 28, 1],
  seed: 1,
  nasnet: { downsample: 1 },
})
let lastLog = 0
const r = await trainNetwork(net, splits.train, {
  epochs,
  batchSize: 64,
  learningRate: 0.1,
  seed: 1,
  onProgress: (p) => {
    if (Date.now() - lastLog > 30000) {
      lastLog = Date.now()
      console.log(
        `epoch ${p.epoch + 1} ${(100 * p.fraction).toFixed(1)}% loss ${p.loss.toFixed(4)}`,
      )
    }
  },
})
const val = evaluateAccuracy(net, splits.validation)
const test = evaluateAccuracy(net, splits.test)
console.log(
  JSON.stringify({
    params: net.paramCount(),
    flops: net.flops(),
    epochs,
    trainImages: splits.train.indices.length,
    trainTimeS: r.trainTimeMs / 1000,
    secondsPerEpoch: r.trainTimeMs / 1000 / epochs,
    imagesPerSecond: r.imagesPerSecond,
    valAccuracy: val,
    testAccuracy: test,
  }),
)
net.dispose()
