/**
 * Reference CNN on full MNIST: trains for `epochs` (default 2) on the 55,000 training images
 * left after a 5,000-image validation split, on wasm, then reports the validation accuracy
 * (the only figure any recipe choice may look at), the accuracy on the official 10,000 test
 * images, and the wall time per epoch. Results go to bench/results/mnist.{json,md}.
 * Run: npx tsx --conditions=@naskit/source bench/mnist.bench.ts [epochs] [trainSize]
 */
import { selectBackend } from '../src/backend.js'
import { loadMnist, splitDataset } from '../src/data/index.js'
import { buildNetwork } from '../src/models/index.js'
import { evaluateAccuracy, type TrainOptions, trainNetwork } from '../src/train/index.js'
import { REFERENCE_CNN } from './reference.js'
import { environment, writeResults } from './results.js'

const epochs = Number(process.argv[2] ?? 2)
const trainSize = process.argv[3] === undefined ? undefined : Number(process.argv[3])
const backend = (process.env.NASKIT_BACKEND as 'wasm' | undefined) ?? 'wasm'
await selectBackend({ backend })
const ds = loadMnist()
const splits = splitDataset(ds, { validationSize: 5000, trainSize, seed: 1 })

/** The training recipe (chosen on the validation split only). */
export const RECIPE: Omit<TrainOptions, 'epochs' | 'onProgress'> = {
  batchSize: 64,
  optimizer: 'momentum',
  learningRate: 0.1,
  schedule: 'cosine',
  weightDecay: 3e-4,
  gradClipNorm: 5,
  seed: 1,
}
const net = buildNetwork(REFERENCE_CNN, {
  inputShape: [28, 28, 1],
  seed: 1,
  nasnet: { downsample: 1 },
})
let lastLog = 0
/** Process CPU time (user + system) in ms: what the run cost, whatever else the machine ran. */
const cpuMs = () => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}
const start = performance.now()
const cpuStart = cpuMs()
const epochEnds: number[] = []
const epochCpuEnds: number[] = []
const r = await trainNetwork(net, splits.train, {
  ...RECIPE,
  epochs,
  onProgress: (p) => {
    if (p.fraction >= (epochEnds.length + 1) / epochs - 1e-9) {
      epochEnds.push(performance.now() - start)
      epochCpuEnds.push(cpuMs() - cpuStart)
    }
    if (Date.now() - lastLog > 30000) {
      lastLog = Date.now()
      console.log(
        `epoch ${p.epoch + 1} ${(100 * p.fraction).toFixed(1)}% loss ${p.loss.toFixed(4)}`,
      )
    }
  },
})
const perEpoch = (ends: number[]) => ends.map((t, i) => (t - (i === 0 ? 0 : ends[i - 1]!)) / 1000)
const secondsPerEpoch = perEpoch(epochEnds)
const cpuSecondsPerEpoch = perEpoch(epochCpuEnds)
const valAccuracy = evaluateAccuracy(net, splits.validation)
const testAccuracy = evaluateAccuracy(net, splits.test)
const result = {
  benchmark: 'reference CNN on MNIST',
  backend,
  arch: REFERENCE_CNN,
  recipe: RECIPE,
  params: net.paramCount(),
  flops: net.flops(),
  epochs,
  trainImages: splits.train.indices.length,
  validationImages: splits.validation.indices.length,
  testImages: splits.test.indices.length,
  trainTimeS: r.trainTimeMs / 1000,
  secondsPerEpoch,
  meanSecondsPerEpoch: r.trainTimeMs / 1000 / epochs,
  cpuSecondsPerEpoch,
  imagesPerSecond: r.imagesPerSecond,
  finalLoss: r.finalLoss,
  valAccuracy,
  testAccuracy,
  target: { testAccuracy: 0.985, epochs: 2 },
  environment: environment(),
}
console.log(JSON.stringify(result))
const pct = (v: number) => `${(100 * v).toFixed(2)}%`
writeResults(
  'mnist',
  result,
  [
    '# Reference CNN on MNIST',
    '',
    `Command: \`npx tsx --conditions=@naskit/source bench/mnist.bench.ts ${epochs}${trainSize === undefined ? '' : ` ${trainSize}`}\``,
    '',
    '| backend | epochs | train images | test accuracy | validation accuracy | wall s / epoch | CPU s / epoch | images/s |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    `| ${backend} | ${epochs} | ${result.trainImages} | ${pct(testAccuracy)} | ${pct(valAccuracy)} | ${secondsPerEpoch.map((v) => v.toFixed(0)).join(', ')} | ${cpuSecondsPerEpoch.map((v) => v.toFixed(0)).join(', ')} | ${r.imagesPerSecond.toFixed(0)} |`,
    '',
    `Params ${result.params}, ${result.flops} multiply-accumulates per image. Recipe: momentum SGD, lr ${RECIPE.learningRate} cosine, batch ${RECIPE.batchSize}, weight decay ${RECIPE.weightDecay}, gradient clip ${RECIPE.gradClipNorm}, no augmentation. Test set: the official 10,000 MNIST test images (not used for any choice). CPU s / epoch is the process CPU time (one wasm thread), the cost of an epoch on an otherwise idle core; wall time depends on the machine load (load average at the end: ${result.environment.loadAverage1m} on ${result.environment.cpus} cores).`,
  ].join('\n'),
)
net.dispose()
