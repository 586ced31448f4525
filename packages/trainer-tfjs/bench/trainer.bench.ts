/**
 * Trainer figures, written to bench/results/trainer.{json,md}:
 * (1) the naskit training loop against tfjs-layers `model.fit` on the same model, data and
 *     optimizer (images/s), measured interleaved: each round trains the same 256 images
 *     (4 batches) with fit and with the loop (the order flips every round), and the median
 *     of the per-round ratios is reported, so that load from other processes weighs on both
 *     sides alike; the ratio of images per second of process CPU time is reported too;
 * (2) wasm against cpu on a training step of the reference CNN (bench/mnist.bench.ts),
 *     also interleaved, by wall time and by process CPU time.
 * Run: npx tsx --conditions=@naskit/source bench/trainer.bench.ts [images] [rounds]
 * (images: the pool the 256-image rounds cycle through, default 1024; rounds default 16)
 */
import * as tf from '@tensorflow/tfjs'
import { selectBackend } from '../src/backend.js'
import { loadMnist, splitDataset } from '../src/data/index.js'
import { buildNetwork } from '../src/models/index.js'
import { type Trainable, trainNetwork } from '../src/train/index.js'
import { REFERENCE_CNN } from './reference.js'
import { environment, median, writeResults } from './results.js'

const images = Number(process.argv[2] ?? 1024)
const rounds = Number(process.argv[3] ?? 16)
/** Images per side per round. */
const chunk = 256
const batchSize = 64
const learningRate = 0.05
const momentum = 0.9

/** Process CPU time (user + system) in ms. */
function cpuMs(): number {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}

function layersCnn(): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({
        inputShape: [28, 28, 1],
        filters: 16,
        kernelSize: 3,
        padding: 'same',
        useBias: false,
      }),
      tf.layers.batchNormalization(),
      tf.layers.reLU(),
      tf.layers.conv2d({ filters: 32, kernelSize: 3, strides: 2, padding: 'same', useBias: false }),
      tf.layers.batchNormalization(),
      tf.layers.reLU(),
      tf.layers.conv2d({ filters: 64, kernelSize: 3, strides: 2, padding: 'same', useBias: false }),
      tf.layers.batchNormalization(),
      tf.layers.reLU(),
      tf.layers.globalAveragePooling2d({}),
      tf.layers.dense({ units: 10 }),
    ],
  })
}

/** The same softmax cross-entropy on logits for both sides (fit gets one-hot labels). */
const softmaxLoss = (yTrue: tf.Tensor, yPred: tf.Tensor) =>
  tf.losses.softmaxCrossEntropy(yTrue, yPred) as tf.Scalar

async function loopVersusFit() {
  await selectBackend({ backend: 'wasm', log: false })
  const ds = loadMnist()
  const splits = splitDataset(ds, { validationSize: 100, trainSize: images, seed: 1 })
  // Two copies of one model with the same initial weights.
  const mLoop = layersCnn()
  const mFit = layersCnn()
  mFit.setWeights(mLoop.getWeights())
  const trainable: Trainable = {
    numClasses: 10,
    apply: (x, training) => mLoop.apply(x, { training }) as tf.Tensor2D,
    trainableVariables: () => mLoop.trainableWeights.map((w) => w.read() as tf.Variable),
  }
  // What fit gets: the same images, normalised once into tensors, labels one-hot.
  const n = splits.train.indices.length
  const xs = new Float32Array(n * 784)
  const ys = new Int32Array(n)
  const [mean, std] = [ds.stats!.mean[0]!, ds.stats!.std[0]!]
  splits.train.indices.forEach((idx, i) => {
    for (let p = 0; p < 784; p++)
      xs[i * 784 + p] = (ds.train.images[idx * 784 + p]! / 255 - mean) / std
    ys[i] = ds.train.labels[idx]!
  })
  const x = tf.tensor4d(xs, [n, 28, 28, 1])
  const y = tf.tidy(() => tf.oneHot(tf.tensor1d(ys, 'int32'), 10))
  const fitOptimizer = tf.train.momentum(learningRate, momentum)
  mFit.compile({ optimizer: fitOptimizer, loss: softmaxLoss })
  // Our loop with the options that match fit: the same update rule (momentum SGD), no weight
  // decay, no clipping, constant learning rate.
  const loopOptions = {
    epochs: 1,
    batchSize,
    optimizer: 'momentum' as const,
    learningRate,
    momentum,
    weightDecay: 0,
    gradClipNorm: 0,
    schedule: 'constant' as const,
  }
  // Each round trains one chunk of the data on each side; chunks are short so that both
  // sides of a round see the same machine load.
  const chunks = Math.max(1, Math.floor(n / chunk))
  const fitChunks = Array.from({ length: chunks }, (_, i) => ({
    x: x.slice(i * chunk, chunk),
    y: y.slice(i * chunk, chunk),
  }))
  const loopChunks = Array.from({ length: chunks }, (_, i) => ({
    ...splits.train,
    indices: splits.train.indices.slice(i * chunk, (i + 1) * chunk),
  }))
  const timed = async (f: () => Promise<unknown>) => {
    const w0 = performance.now()
    const c0 = cpuMs()
    await f()
    return { wall: chunk / ((performance.now() - w0) / 1000), cpu: chunk / ((cpuMs() - c0) / 1000) }
  }
  const runFit = (i: number) =>
    timed(() =>
      mFit.fit(fitChunks[i]!.x, fitChunks[i]!.y, {
        batchSize,
        epochs: 1,
        verbose: 0,
        shuffle: true,
      }),
    )
  const runLoop = (i: number) =>
    timed(() => trainNetwork(trainable, loopChunks[i]!, { ...loopOptions, seed: i }))
  // warm-up (kernel set-up, first-call costs) on both sides
  await runFit(0)
  await runLoop(0)
  const perRound: Array<{
    fit: number
    loop: number
    ratio: number
    fitPerCpuSecond: number
    loopPerCpuSecond: number
    cpuRatio: number
    order: string
  }> = []
  for (let r = 0; r < rounds; r++) {
    const i = r % chunks
    let fit: { wall: number; cpu: number }
    let loop: { wall: number; cpu: number }
    if (r % 2 === 0) {
      fit = await runFit(i)
      loop = await runLoop(i)
    } else {
      loop = await runLoop(i)
      fit = await runFit(i)
    }
    perRound.push({
      fit: fit.wall,
      loop: loop.wall,
      ratio: loop.wall / fit.wall,
      fitPerCpuSecond: fit.cpu,
      loopPerCpuSecond: loop.cpu,
      cpuRatio: loop.cpu / fit.cpu,
      order: r % 2 === 0 ? 'fit,loop' : 'loop,fit',
    })
    console.log(
      `round ${r + 1}: fit ${fit.wall.toFixed(1)} img/s, loop ${loop.wall.toFixed(1)} img/s, ratio ${(loop.wall / fit.wall).toFixed(3)} (CPU time ${(loop.cpu / fit.cpu).toFixed(3)})`,
    )
  }
  for (const c of fitChunks) tf.dispose([c.x, c.y])
  tf.dispose([x, y])
  mLoop.dispose()
  mFit.dispose()
  return {
    imagesPerRound: chunk,
    batchSize,
    rounds: perRound,
    medianFitImagesPerSecond: median(perRound.map((p) => p.fit)),
    medianLoopImagesPerSecond: median(perRound.map((p) => p.loop)),
    medianRatio: median(perRound.map((p) => p.ratio)),
    medianCpuTimeRatio: median(perRound.map((p) => p.cpuRatio)),
    target: 0.95,
  }
}

async function wasmVersusCpu(stepBatch: number, roundsCpu: number) {
  const setups: Record<string, { step: () => void; dispose: () => void }> = {}
  for (const backend of ['wasm', 'cpu'] as const) {
    await selectBackend({ backend, log: false })
    const net = buildNetwork(REFERENCE_CNN, {
      inputShape: [28, 28, 1],
      seed: 1,
      nasnet: { downsample: 1 },
    })
    const x = tf.randomNormal([stepBatch, 28, 28, 1], 0, 1, 'float32', 1) as tf.Tensor4D
    const labels = tf.oneHot(tf.tensor1d(new Int32Array(stepBatch).fill(3), 'int32'), 10)
    const opt = tf.train.momentum(0.05, 0.9)
    const vars = net.trainableVariables()
    setups[backend] = {
      step: () =>
        tf.tidy(() => {
          opt.minimize(
            () => tf.losses.softmaxCrossEntropy(labels, net.apply(x, true)) as tf.Scalar,
            false,
            vars,
          )
        }),
      dispose: () => {
        tf.dispose([x, labels])
        opt.dispose()
        net.dispose()
      },
    }
  }
  const measure = async (backend: 'wasm' | 'cpu', steps: number) => {
    await tf.setBackend(backend)
    const w0 = performance.now()
    const c0 = cpuMs()
    for (let i = 0; i < steps; i++) setups[backend]!.step()
    return { wallMs: (performance.now() - w0) / steps, cpuMs: (cpuMs() - c0) / steps }
  }
  // warm-up
  await measure('wasm', 1)
  await measure('cpu', 1)
  const wasmRuns: Array<{ wallMs: number; cpuMs: number }> = []
  const cpuRuns: Array<{ wallMs: number; cpuMs: number }> = []
  for (let r = 0; r < roundsCpu; r++) {
    wasmRuns.push(await measure('wasm', 3))
    cpuRuns.push(await measure('cpu', 1))
    console.log(
      `round ${r + 1}: wasm ${wasmRuns[r]!.wallMs.toFixed(0)} ms/step, cpu ${cpuRuns[r]!.wallMs.toFixed(0)} ms/step`,
    )
  }
  for (const b of ['wasm', 'cpu'] as const) {
    await tf.setBackend(b)
    setups[b]!.dispose()
  }
  const wasmStepMs = median(wasmRuns.map((r) => r.wallMs))
  const cpuStepMs = median(cpuRuns.map((r) => r.wallMs))
  const wasmCpuMs = median(wasmRuns.map((r) => r.cpuMs))
  const cpuCpuMs = median(cpuRuns.map((r) => r.cpuMs))
  return {
    model: 'reference CNN (bench/mnist.bench.ts), 28×28×1 input',
    batch: stepBatch,
    wasmStepMs,
    cpuStepMs,
    speedup: cpuStepMs / wasmStepMs,
    wasmStepCpuMs: wasmCpuMs,
    cpuStepCpuMs: cpuCpuMs,
    speedupByCpuTime: cpuCpuMs / wasmCpuMs,
  }
}

const fit = await loopVersusFit()
console.log(JSON.stringify({ loopVersusFit: fit }))
const backends = await wasmVersusCpu(16, 2)
console.log(JSON.stringify({ wasmVersusCpu: backends }))
const result = { loopVersusFit: fit, wasmVersusCpu: backends, environment: environment() }
writeResults(
  'trainer',
  result,
  [
    '# Trainer benchmarks',
    '',
    `Command: \`npx tsx --conditions=@naskit/source bench/trainer.bench.ts ${images} ${rounds}\` (or \`pnpm bench\`)`,
    '',
    '## Training loop against tfjs-layers `model.fit` (wasm)',
    '',
    `The same tfjs-layers CNN (3 conv–BN–ReLU, global pooling, dense; both copies start from the same weights), the same MNIST images, batch ${batchSize}, momentum SGD (lr ${learningRate}, momentum ${momentum}), softmax cross-entropy; fit gets its data as ready tensors. Each round trains the same ${fit.imagesPerRound} images on each side (order flipped every round).`,
    '',
    '| round | order | fit images/s | loop images/s | loop / fit | loop / fit by CPU time |',
    '| --- | --- | --- | --- | --- | --- |',
    ...fit.rounds.map(
      (r, i) =>
        `| ${i + 1} | ${r.order} | ${r.fit.toFixed(1)} | ${r.loop.toFixed(1)} | ${r.ratio.toFixed(3)} | ${r.cpuRatio.toFixed(3)} |`,
    ),
    '',
    `**Median ratio loop / fit: ${fit.medianRatio.toFixed(3)}** by wall time, ${fit.medianCpuTimeRatio.toFixed(3)} by process CPU time (target ≥ ${fit.target}).`,
    '',
    '## wasm against cpu (reference CNN training step)',
    '',
    '| backend | ms / step (wall, median) | ms / step (process CPU time) |',
    '| --- | --- | --- |',
    `| wasm | ${backends.wasmStepMs.toFixed(0)} | ${backends.wasmStepCpuMs.toFixed(0)} |`,
    `| cpu | ${backends.cpuStepMs.toFixed(0)} | ${backends.cpuStepCpuMs.toFixed(0)} |`,
    '',
    `**Speedup wasm over cpu: ${backends.speedup.toFixed(1)}×** by wall time, ${backends.speedupByCpuTime.toFixed(1)}× by CPU time (batch ${backends.batch}).`,
    '',
    `Load average at the end: ${result.environment.loadAverage1m} on ${result.environment.cpus} cores.`,
  ].join('\n'),
)
