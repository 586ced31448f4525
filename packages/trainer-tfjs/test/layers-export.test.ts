import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { chainSpace, isNaskitError, Rng } from '@naskit/core'
import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { batches, type Dataset, datasetFromArrays } from '../src/data/dataset.js'
import {
  inputPipeline,
  type LayersModelMetadata,
  saveLayersModel,
  toLayersModel,
} from '../src/export/index.js'
import {
  type BuildOptions,
  buildNetwork,
  Nb201Network,
  type SpaceName,
} from '../src/models/index.js'
import type { Network } from '../src/models/network.js'
import { Module } from '../src/ops/module.js'
import { batchNorms, recalibrateBatchNorms } from '../src/ops/primitives.js'
import { loadNetwork, tfjsEvaluator } from '../src/train/index.js'
import { useWasm, values } from './helpers.js'

const packageDir = path.join(import.meta.dirname, '..')

/** Keras layers an export may use (no Lambda, no custom class). */
const BUILT_IN_LAYERS = [
  'InputLayer',
  'Conv2D',
  'SeparableConv2D',
  'DepthwiseConv2D',
  'BatchNormalization',
  'Activation',
  'ZeroPadding2D',
  'Cropping2D',
  'MaxPooling2D',
  'AveragePooling2D',
  'GlobalAveragePooling2D',
  'Dense',
  'Add',
  'Concatenate',
  'Permute',
  'Reshape',
  'Dot',
  'Rescaling',
  'Softmax',
]

/** Byte images (0–255) of `n` × shape, seeded, with labels; stats computed by the dataset. */
function byteDataset(
  n: number,
  shape: [number, number, number],
  seed: number,
  numClasses = 3,
): Dataset {
  const per = shape[0] * shape[1] * shape[2]
  const v = values(n * per, seed)
  const images = new Uint8Array(n * per)
  // channels get different brightness so that the per-channel stats differ
  for (let i = 0; i < images.length; i++) {
    const k = i % shape[2]
    images[i] = Math.max(0, Math.min(255, Math.round(90 + 40 * k + 80 * v[i]!)))
  }
  const labels = Array.from({ length: n }, (_, i) => i % numClasses)
  return datasetFromArrays({
    images,
    labels,
    imageShape: shape,
    numClasses,
    classNames: Array.from({ length: numClasses }, (_, i) => `class-${i}`),
  })
}

/** The dataset's first `n` images, raw, as the exported model takes them. */
function rawImages(ds: Dataset, n: number): tf.Tensor4D {
  const [h, w, c] = ds.imageShape
  const per = h * w * c
  return tf.tensor4d(Float32Array.from(ds.train.images.subarray(0, n * per)), [n, h, w, c])
}

/** naskit's own forward pass on those images: the trainer's batches, then the network. */
function naskitLogits(net: Network, ds: Dataset, n: number, resize?: [number, number]): tf.Tensor {
  const view = { set: ds.train, indices: Uint32Array.from({ length: n }, (_, i) => i), dataset: ds }
  const batch = batches(view, { batchSize: n, resize }).next().value!
  const out = net.predict(batch.x)
  tf.dispose([batch.x, batch.y])
  return out
}

/**
 * Gives every batch norm real running statistics (from a few training-mode passes on
 * standardised images) and non-trivial affine weights.
 */
function prepare(net: Network, ds: Dataset, resize?: [number, number]): void {
  const view = {
    set: ds.train,
    indices: Uint32Array.from({ length: 16 }, (_, i) => i),
    dataset: ds,
  }
  recalibrateBatchNorms(batchNorms(net), batches(view, { batchSize: 8, resize }), (b) => {
    net.apply(b.x, true)
    tf.dispose([b.x, b.y])
  })
  let s = 11
  tf.tidy(() => {
    for (const bn of batchNorms(net)) {
      bn.gamma?.assign(tf.add(1, tf.mul(0.3, tf.tensor1d(values(bn.channels, s++)))))
      bn.beta?.assign(tf.mul(0.2, tf.tensor1d(values(bn.channels, s++))))
    }
  })
}

let server: Server
let baseUrl = ''
let root = ''

beforeAll(async () => {
  await useWasm()
  root = await mkdtemp(path.join(tmpdir(), 'naskit-layers-'))
  server = createServer((req, res) => {
    const file = path.join(root, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname))
    readFile(file).then(
      (body) => {
        res.writeHead(200, {
          'content-type': file.endsWith('.json') ? 'application/json' : 'application/octet-stream',
        })
        res.end(body)
      },
      () => {
        res.writeHead(404)
        res.end()
      },
    )
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const addr = server.address()
  baseUrl = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`
})

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()))
  await rm(root, { recursive: true, force: true })
})

interface Case {
  name: string
  space: SpaceName
  arch: unknown
  build: BuildOptions
  image: [number, number, number]
  resize?: [number, number]
}

/**
 * Exports the network over HTTP, loads it with plain `tf.loadLayersModel`, and returns the
 * largest logit difference to naskit's forward pass on the same raw images (and whether
 * the predicted classes agree).
 */
async function roundTrip(c: Case, n = 4): Promise<{ diff: number; sameClass: boolean }> {
  const ds = byteDataset(24, c.image, 5)
  const inputShape: [number, number, number] = c.resize
    ? [c.resize[0], c.resize[1], c.image[2]]
    : c.image
  const net = buildNetwork(c.arch, { ...c.build, inputShape, numClasses: 3, seed: 2 })
  try {
    prepare(net, ds, c.resize)
    await saveLayersModel(net, path.join(root, c.name), {
      arch: c.arch,
      space: c.space,
      build: c.build,
      input: inputPipeline(ds, c.resize),
      classNames: ds.classNames,
    })
    const json = JSON.parse(readFileSync(path.join(root, c.name, 'model.json'), 'utf8'))
    for (const l of json.modelTopology.config.layers as Array<{ class_name: string }>) {
      expect(BUILT_IN_LAYERS).toContain(l.class_name)
    }
    const model = await tf.loadLayersModel(`${baseUrl}/${c.name}/model.json`)
    try {
      const x = rawImages(ds, n)
      const got = model.predict(x) as tf.Tensor
      const want = naskitLogits(net, ds, n, c.resize)
      const diff = tf.max(tf.abs(tf.sub(got, want))).dataSync()[0]!
      const sameClass = tf.all(tf.equal(tf.argMax(got, 1), tf.argMax(want, 1))).dataSync()[0] === 1
      tf.dispose([x, got, want])
      return { diff, sameClass }
    } finally {
      model.dispose()
    }
  } finally {
    net.dispose()
  }
}

const chainArch = {
  layers: [
    'conv_3x3',
    'sep_conv_5x5',
    'max_pool_3x3',
    'attention',
    'avg_pool_3x3',
    'skip_connect',
    'conv_5x5',
    'attention',
    'sep_conv_3x3',
  ].map((op) => ({ op })),
  width_multiplier: 0.75,
  resolution: 224,
}

const cases: Case[] = [
  {
    name: 'chain',
    space: 'chain',
    arch: chainArch,
    // resized twice: by the evaluator's resize (10 → 12 px), then to the chain's resolution
    build: { chain: { baseChannels: 8, resolution: 16, maxTokens: 20 } },
    image: [10, 10, 3],
    resize: [12, 12],
  },
  {
    name: 'nasnet',
    space: 'nasnet',
    arch: {
      blocks: [
        { kernel: 3, channels: 8, skip: true },
        { kernel: 5, channels: 8, skip: true },
        { kernel: 7, channels: 12, skip: true },
        { kernel: 3, channels: 16, skip: false },
        { kernel: 5, channels: 16, skip: true },
      ],
    },
    build: {},
    image: [11, 11, 1],
  },
  {
    name: 'nb201',
    space: 'nb201',
    arch: {
      cell: {
        nodes: [
          { inputs: [0], ops: ['none'] },
          { inputs: [0, 1], ops: ['skip_connect', 'nor_conv_3x3'] },
          { inputs: [0, 1, 2], ops: ['nor_conv_1x1', 'avg_pool_3x3', 'none'] },
        ],
      },
    },
    build: { nb201: { channels: 4, cellsPerStage: 1 } },
    image: [12, 12, 3],
  },
  {
    name: 'darts',
    space: 'darts',
    arch: {
      normal: {
        nodes: [
          { inputs: [0, 1], ops: ['sep_conv_3x3', 'skip_connect'] },
          { inputs: [0, 2], ops: ['dil_conv_3x3', 'max_pool_3x3'] },
          { inputs: [1, 3], ops: ['none', 'none'] },
          { inputs: [2, 4], ops: ['avg_pool_3x3', 'sep_conv_5x5'] },
        ],
      },
      reduce: {
        nodes: [
          { inputs: [0, 1], ops: ['max_pool_3x3', 'dil_conv_5x5'] },
          { inputs: [1, 2], ops: ['skip_connect', 'avg_pool_3x3'] },
          { inputs: [0, 3], ops: ['sep_conv_5x5', 'none'] },
          { inputs: [0, 4], ops: ['dil_conv_3x3', 'skip_connect'] },
        ],
      },
    },
    build: { darts: { channels: 4, layers: 3, stemMultiplier: 2 } },
    image: [9, 9, 3],
  },
]

describe('toLayersModel / saveLayersModel', () => {
  for (const c of cases) {
    it(`exports a ${c.name} network that plain tf.loadLayersModel predicts like naskit, from raw pixels`, async () => {
      const { diff, sameClass } = await roundTrip(c)
      expect(diff).toBeLessThanOrEqual(1e-4)
      expect(sameClass).toBe(true)
    })
  }

  it('matches naskit on 20 random chain architectures', async () => {
    const space = chainSpace()
    const rng = new Rng(19)
    const diffs: number[] = []
    for (let i = 0; i < 20; i++) {
      const arch = space.sample(rng)
      const { diff, sameClass } = await roundTrip(
        {
          name: `random-${i}`,
          space: 'chain',
          arch,
          build: { chain: { baseChannels: 4, resolution: 12, maxTokens: 16 } },
          image: [10, 10, 1],
        },
        3,
      )
      expect(sameClass).toBe(true)
      diffs.push(diff)
    }
    expect(Math.max(...diffs)).toBeLessThanOrEqual(1e-4)
  }, 120_000)

  it('writes model.json, weights and metadata that loadNetwork rebuilds exactly', async () => {
    const ds = byteDataset(16, [8, 8, 3], 3)
    const arch = chainArch
    const build: BuildOptions = { chain: { baseChannels: 4, resolution: 8, maxTokens: 16 } }
    const net = buildNetwork(arch, { ...build, inputShape: [8, 8, 3], numClasses: 3, seed: 1 })
    prepare(net, ds)
    const dir = path.join(root, 'files')
    const tensors = tf.memory().numTensors
    const saved = await saveLayersModel(net, dir, {
      arch,
      space: 'chain',
      build,
      input: inputPipeline(ds),
      classNames: ds.classNames,
      shardBytes: 4096,
    })
    expect(tf.memory().numTensors).toBe(tensors)
    expect(saved.files[0]).toBe('model.json')
    expect(saved.files.length).toBeGreaterThan(2)
    expect(saved.files.slice(1)).toEqual(
      Array.from(
        { length: saved.files.length - 1 },
        (_, i) => `group1-shard${i + 1}of${saved.files.length - 1}.bin`,
      ),
    )
    expect((await readdir(dir)).sort()).toEqual([...saved.files].sort())
    const json = JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8'))
    expect(json.format).toBe('layers-model')
    expect(json.modelTopology.class_name).toBe('Model')
    const classes = new Set<string>(
      json.modelTopology.config.layers.map((l: { class_name: string }) => l.class_name),
    )
    expect(classes.has('Lambda')).toBe(false)
    const meta = json.userDefinedMetadata.naskit as LayersModelMetadata
    expect(meta.classes).toEqual(['class-0', 'class-1', 'class-2'])
    expect(meta.inputShape).toEqual([8, 8, 3])
    expect(meta.input).toMatchObject({ pixels: 'raw', scale: 1 / 255, resize: null })
    expect(meta.output).toBe('logits')
    // every trainable network variable that reaches the output is in the model
    expect(Object.values(meta.weights).sort()).toEqual(
      net
        .namedVariables()
        .map((v) => v.name)
        .sort(),
    )

    const model = await tf.loadLayersModel(`${baseUrl}/files/model.json`)
    const x = rawImages(ds, 4)
    const fromShards = model.predict(x) as tf.Tensor
    const own = naskitLogits(net, ds, 4)
    expect(tf.max(tf.abs(tf.sub(fromShards, own))).dataSync()[0]).toBeLessThanOrEqual(1e-4)
    tf.dispose([x, fromShards, own])
    model.dispose()

    const back = await loadNetwork(dir)
    try {
      const a = naskitLogits(net, ds, 4)
      const b = naskitLogits(back, ds, 4)
      expect(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]).toBe(0)
      tf.dispose([a, b])
    } finally {
      back.dispose()
      net.dispose()
    }
  })

  it('loads in a Node process that has only @tensorflow/tfjs (no naskit code)', async () => {
    const script = `
      import * as tf from '@tensorflow/tfjs'
      import { readFileSync } from 'node:fs'
      const { url, input, shape } = JSON.parse(readFileSync(process.argv[1], 'utf8'))
      const model = await tf.loadLayersModel(url)
      const y = model.predict(tf.tensor4d(input, shape))
      process.stdout.write(JSON.stringify({ backend: tf.getBackend(), logits: Array.from(y.dataSync()) }))
    `
    const ds = byteDataset(24, [12, 12, 3], 5)
    const x = rawImages(ds, 2)
    const job = path.join(root, 'plain-job.json')
    await writeFile(
      job,
      JSON.stringify({
        url: `${baseUrl}/nb201/model.json`,
        input: Array.from(x.dataSync()),
        shape: x.shape,
      }),
    )
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--input-type=module', '-e', script, job],
      { cwd: packageDir },
    )
    const out = JSON.parse(stdout) as { backend: string; logits: number[] }
    // the same export, loaded in this process
    const model = await tf.loadLayersModel(`${baseUrl}/nb201/model.json`)
    const here = Array.from((model.predict(x) as tf.Tensor).dataSync())
    model.dispose()
    x.dispose()
    expect(out.backend).toBe('cpu')
    expect(out.logits.length).toBe(here.length)
    expect(Math.max(...out.logits.map((v, i) => Math.abs(v - here[i]!)))).toBeLessThanOrEqual(1e-4)
  }, 60_000)

  it('releases every tensor it makes once the model is disposed, unused branches too', () => {
    // the nb201 cell's node 2 does not reach the output: its layers are dropped
    for (const c of [cases[2]!, cases[3]!]) {
      const net = buildNetwork(c.arch, { ...c.build, inputShape: c.image, numClasses: 3 })
      const before = tf.memory().numTensors
      const { model, sources } = toLayersModel(net)
      if (c.space === 'nb201') {
        expect(Object.values(sources).some((v) => v.includes('node2'))).toBe(false)
        expect(Object.values(sources).some((v) => v.includes('node3'))).toBe(true)
      }
      model.dispose()
      expect(tf.memory().numTensors).toBe(before)
      net.dispose()
    }
  })

  it('refuses a module outside the op library with E_EXPORT_UNSUPPORTED, naming it', () => {
    class Doubler extends Module {
      forward(x: tf.Tensor4D): tf.Tensor4D {
        return tf.mul(x, 2)
      }
    }
    const arch = {
      cell: {
        nodes: [
          { inputs: [0], ops: ['skip_connect'] },
          { inputs: [1], ops: ['skip_connect'] },
          { inputs: [2], ops: ['skip_connect'] },
        ],
      },
    }
    const net = new Nb201Network(arch, { channels: 4, cellsPerStage: 1 }, () => new Doubler())
    const before = tf.memory().numTensors
    let err: unknown
    try {
      toLayersModel(net)
    } catch (e) {
      err = e
    }
    expect(isNaskitError(err, 'E_EXPORT_UNSUPPORTED')).toBe(true)
    expect((err as Error).message).toContain('Doubler')
    expect(tf.memory().numTensors).toBe(before)
    net.dispose()
  })

  it('refuses an input pipeline that does not give the network its input shape', () => {
    const net = buildNetwork(cases[1]!.arch, { inputShape: [11, 11, 1], numClasses: 3 })
    const ds = byteDataset(4, [12, 12, 1], 1)
    let err: unknown
    try {
      toLayersModel(net, { input: inputPipeline(ds) })
    } catch (e) {
      err = e
    }
    expect(isNaskitError(err, 'E_BAD_OPTIONS')).toBe(true)
    expect((err as Error).message).toMatch(/\[12, 12, 1\].*\[11, 11, 1\]/)
    net.dispose()
  })
})

describe('tfjsEvaluator exportModel', () => {
  it('saves a Layers model that takes raw pixels and scores the test accuracy the evaluator reported', async () => {
    const train = byteDataset(60, [8, 8, 3], 7)
    const test = byteDataset(30, [8, 8, 3], 8)
    const ds = datasetFromArrays({
      images: train.train.images,
      labels: train.train.labels,
      imageShape: [8, 8, 3],
      testImages: test.train.images,
      testLabels: test.train.labels,
      classNames: ['cat', 'dog', 'fox'],
    })
    const ev = tfjsEvaluator({
      dataset: ds,
      epochs: 1,
      batchSize: 16,
      split: { validationSize: 12 },
      resize: [10, 10],
      latencyRepeats: 1,
      backend: 'wasm',
      log: { warn() {} },
    })
    const arch = {
      blocks: [
        { kernel: 3, channels: 6, skip: true },
        { kernel: 5, channels: 8, skip: true },
      ],
    }
    const dir = path.join(root, 'evaluator')
    const out = await ev.exportModel(arch, { trialId: 3, seed: 4, dir, format: 'tfjs' })
    expect(out.files).toEqual(['model.json', 'weights.bin'])
    const model = await tf.loadLayersModel(`${baseUrl}/evaluator/model.json`)
    const meta = (model.getUserDefinedMetadata() as { naskit: LayersModelMetadata }).naskit
    expect(meta.classes).toEqual(['cat', 'dog', 'fox'])
    expect(meta.inputShape).toEqual([8, 8, 3])
    expect(meta.input).toMatchObject({ pixels: 'raw', resize: [10, 10] })
    const x = tf.tensor4d(Float32Array.from(ds.test.images), [ds.test.count, 8, 8, 3])
    const predicted = (model.predict(x) as tf.Tensor).argMax(1).dataSync()
    let hits = 0
    predicted.forEach((p, i) => {
      if (p === ds.test.labels[i]) hits++
    })
    expect(hits / ds.test.count).toBeCloseTo(out.metrics.test_accuracy as number, 6)
    x.dispose()
    model.dispose()
  })
})
