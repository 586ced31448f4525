/**
 * Trainer figures: (1) the naskit training loop against tfjs-layers `model.fit` on the same
 * model and data (images/s ratio); (2) wasm against cpu on a small reference CNN train step.
 * Run: npx tsx bench/trainer.bench.ts
 */
import * as tf from '@tensorflow/tfjs'
import { selectBackend } from '../src/backend.js'
import { loadMnist, splitDataset } from '../src/data/index.js'
import { buildNetwork } from '../src/models/index.js'
import { trainNetwork } from '../src/train/index.js'

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

async function loopVersusFit(images: number) {
  await selectBackend({ backend: 'wasm', log: false })
  const ds = loadMnist()
  const splits = splitDataset(ds, { validationSize: 100, trainSize: images, seed: 1 })
  const batchSize = 64
  // naskit loop driving a tfjs-layers model
  const m1 = layersCnn()
  const trainable = {
    numClasses: 10,
    apply: (x: tf.Tensor4D, training: boolean) => m1.apply(x, { training }) as tf.Tensor2D,
    trainableVariables: () => m1.trainableWeights.map((w) => w.read() as tf.Variable),
  }
  await trainNetwork(
    trainable,
    { ...splits.train, indices: splits.train.indices.slice(0, 256) },
    {
      epochs: 1,
      batchSize,
      weightDecay: 0,
      gradClipNorm: 0,
      schedule: 'constant',
    },
  )
  const loop = await trainNetwork(trainable, splits.train, {
    epochs: 1,
    batchSize,
    weightDecay: 0,
    gradClipNorm: 0,
    schedule: 'constant',
  })
  // model.fit on the same data (already normalised tensors: no per-batch copy at all)
  const m2 = layersCnn()
  m2.compile({ optimizer: tf.train.momentum(0.05, 0.9), loss: 'sparseCategoricalCrossentropy' })
  const xs = new Float32Array(images * 784)
  const ys = new Float32Array(images)
  splits.train.indices.forEach((idx, i) => {
    for (let p = 0; p < 784; p++)
      xs[i * 784 + p] = (ds.train.images[idx * 784 + p]! / 255 - 0.1307) / 0.3081
    ys[i] = ds.train.labels[idx]!
  })
  const x = tf.tensor4d(xs, [images, 28, 28, 1])
  const y = tf.tensor1d(ys)
  await m2.fit(x.slice(0, 256), y.slice(0, 256), { batchSize, epochs: 1, verbose: 0 })
  const t0 = performance.now()
  await m2.fit(x, y, { batchSize, epochs: 1, verbose: 0, shuffle: true })
  const fitIps = images / ((performance.now() - t0) / 1000)
  tf.dispose([x, y])
  m1.dispose()
  m2.dispose()
  return {
    loopImagesPerSecond: loop.imagesPerSecond,
    fitImagesPerSecond: fitIps,
    ratio: loop.imagesPerSecond / fitIps,
  }
}

async function wasmVersusCpu() {
  const out: Record<string, number> = {}
  for (const backend of ['wasm', 'cpu'] as const) {
    await selectBackend({ backend, log: false })
    const net = buildNetwork(
      {
        blocks: [
          { kernel: 3, channels: 16, skip: false },
          { kernel: 3, channels: 32, skip: false },
          { kernel: 3, channels: 32, skip: true },
        ],
      },
      { inputShape: [14, 14, 1], nasnet: { downsample: 1 } },
    )
    const x = tf.randomNormal([32, 14, 14, 1]) as tf.Tensor4D
    const labels = tf.oneHot(tf.tensor1d(new Int32Array(32).fill(3), 'int32'), 10)
    const opt = tf.train.momentum(0.05, 0.9)
    const vars = net.trainableVariables()
    const step = () =>
      tf.tidy(() => {
        opt.minimize(
          () => tf.losses.softmaxCrossEntropy(labels, net.apply(x, true)) as tf.Scalar,
          false,
          vars,
        )
      })
    step()
    const n = backend === 'wasm' ? 10 : 2
    const t0 = performance.now()
    for (let i = 0; i < n; i++) step()
    out[`${backend}StepMs`] = (performance.now() - t0) / n
    tf.dispose([x, labels])
    opt.dispose()
    net.dispose()
  }
  out.speedup = out.cpuStepMs! / out.wasmStepMs!
  return out
}

const images = Number(process.argv[2] ?? 1024)
console.log(JSON.stringify({ loopVersusFit: await loopVersusFit(images) }))
console.log(JSON.stringify({ wasmVersusCpu: await wasmVersusCpu() }))
