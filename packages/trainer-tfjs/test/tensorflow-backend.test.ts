/**
 * The op library, every model builder and a short training on a real TensorFlow backend
 * (`@tensorflow/tfjs-node`), each checked against the cpu backend. tfjs-node registers its
 * backend for the whole process, so these tests have a file of their own.
 *
 * Without a built native addon they are left out with a notice (`bash
 * scripts/tfjs-node-from-wheel.sh` builds one against the tensorflow-cpu wheel); an addon
 * that is there but does not load fails them.
 */
import { appendFileSync, existsSync, mkdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import * as tf from '@tensorflow/tfjs'
import { afterAll, describe, expect, it } from 'vitest'
import { nativeAddonPath, selectBackend } from '../src/backend.js'
import { loadMnist, splitDataset } from '../src/data/index.js'
import { REFERENCE_CNN } from '../bench/reference.js'
import { buildNetwork } from '../src/models/index.js'
import type { Network } from '../src/models/network.js'
import { avgPoolExcludePad, maxPoolSymmetric } from '../src/ops/index.js'
import { trainNetwork } from '../src/train/index.js'
import {
  type Backend,
  mnistBatches,
  networkGradients,
  opCases,
  type Results,
  referenceCnn,
  runOpCase,
  use,
  worst,
} from './backend-parity.js'
import { values } from './helpers.js'

const packageDir = path.dirname(path.dirname(fileURLToPath(import.meta.url)))

/** Where tfjs-node would load its addon from, or why there is none. */
function findAddon(): { addon: string } | { missing: string } {
  try {
    const manifest = createRequire(import.meta.url).resolve('@tensorflow/tfjs-node/package.json')
    const addon = nativeAddonPath(path.dirname(manifest))
    return existsSync(addon) ? { addon } : { missing: `no native addon at ${addon}` }
  } catch {
    return { missing: '@tensorflow/tfjs-node is not installed' }
  }
}

const found = findAddon()
const available = 'addon' in found
if (!available) {
  const why = found.missing
  console.warn(
    `tensorflow backend tests left out: ${why}. Build the addon with: bash scripts/tfjs-node-from-wheel.sh`,
  )
  const dir = path.join(packageDir, '.test-results')
  mkdirSync(dir, { recursive: true })
  appendFileSync(
    path.join(dir, 'left-out.jsonl'),
    `${JSON.stringify({
      package: '@naskit/trainer-tfjs',
      tool: 'the tfjs-node native addon',
      tests: 'test/tensorflow-backend.test.ts',
      enable: 'bash scripts/tfjs-node-from-wheel.sh',
    })}\n`,
  )
}

/** Runs `fn` on cpu, then on tensorflow, with every tensor released on both. */
async function onBoth(fn: () => Results): Promise<{ cpu: Results; tf: Results }> {
  const out = {} as { cpu: Results; tf: Results }
  for (const backend of ['cpu', 'tensorflow'] as Backend[]) {
    await use(backend)
    const before = tf.memory().numTensors
    const r = fn()
    expect(tf.memory().numTensors).toBe(before)
    out[backend === 'cpu' ? 'cpu' : 'tf'] = r
  }
  return out
}

/** Builds a fresh network on each backend (same seed) and compares logits and gradients. */
async function compareNetwork(
  build: () => Network,
  xs: Float32Array,
  labels: Int32Array,
): Promise<{ name: string; error: number }> {
  const { cpu, tf: got } = await onBoth(() => {
    const net = build()
    try {
      return networkGradients(net, xs, labels)
    } finally {
      net.dispose()
    }
  })
  return worst(got, cpu, 'l2')
}

describe.skipIf(!available)('the tensorflow backend (tfjs-node)', () => {
  afterAll(async () => {
    await use('cpu')
  })

  it('auto chooses it when its addon is built', async () => {
    const lines: string[] = []
    const sel = await selectBackend({ backend: 'auto', log: (l) => lines.push(l) })
    expect(sel.tfBackend).toBe('tensorflow')
    expect(['tensorflow', 'tensorflow-gpu']).toContain(sel.backend)
    expect(tf.getBackend()).toBe('tensorflow')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toContain(`"${sel.backend}"`)
  })

  it.each(opCases())(
    '$name ($cIn→$cOut, stride $stride, $size×$size): output and gradients equal cpu',
    async (c) => {
      const { cpu, tf: got } = await onBoth(() => runOpCase(c))
      const w = worst(got, cpu)
      expect(w.error, `${w.name} differs`).toBeLessThan(1e-4)
    },
  )

  it.each([
    [3, 2, 1, 8],
    [3, 2, 1, 7],
    [2, 1, 1, 7],
    [5, 2, 1, 8],
  ])(
    'average pooling without padded cells (window %i, stride %i, padding %i, size %i) equals cpu',
    async (k, s, pad, size) => {
      const { cpu, tf: got } = await onBoth(() =>
        tf.tidy(() => {
          const x = tf.tensor4d(values(2 * size * size * 3, 31), [2, size, size, 3])
          const y = avgPoolExcludePad(x, k, s, pad)
          const r = tf.tensor(values(y.size, 32), y.shape)
          const dx = tf.grad((input) =>
            tf.sum(tf.mul(avgPoolExcludePad(input as tf.Tensor4D, k, s, pad), r)),
          )(x)
          return {
            y: y.dataSync().slice() as Float32Array,
            dx: dx.dataSync().slice() as Float32Array,
          }
        }),
      )
      const w = worst(got, cpu)
      expect(w.error, `${w.name} differs`).toBeLessThan(1e-5)
    },
  )

  it.each([8, 7])(
    'ties on flat regions (ReLU at exactly 0, max-pool windows of equal values, size %i) route gradients as on cpu',
    async (size) => {
      // a few levels only, as on the flat background of real images
      const xs = Float32Array.from(
        { length: 2 * size * size * 3 },
        (_, i) => Math.floor(((i * 2654435761) % 1000) / 400) - 1,
      )
      const { cpu, tf: got } = await onBoth(() =>
        tf.tidy(() => {
          const x = tf.tensor4d(xs, [2, size, size, 3])
          const out: Results = {}
          for (const s of [1, 2]) {
            const f = (input: tf.Tensor) => {
              const y = maxPoolSymmetric(tf.relu(input as tf.Tensor4D), 3, s)
              return tf.sum(tf.mul(y, tf.tensor(values(y.size, 41), y.shape)))
            }
            out[`stride ${s}`] = tf.grad(f)(x).dataSync().slice() as Float32Array
          }
          return out
        }),
      )
      // a gradient sent to another cell of a window would be off by O(1); this is rounding
      const w = worst(got, cpu)
      expect(w.error, `${w.name} differs`).toBeLessThan(1e-6)
    },
  )

  it('chain network (every chain op, downsampling on even sizes)', async () => {
    const arch = {
      layers: [
        { op: 'conv_3x3' },
        { op: 'conv_5x5' },
        { op: 'max_pool_3x3' },
        { op: 'avg_pool_3x3' },
        { op: 'skip_connect' },
        { op: 'sep_conv_3x3' },
        { op: 'sep_conv_5x5' },
        { op: 'attention' },
      ],
      width_multiplier: 0.5,
      resolution: 12,
    }
    const w = await compareNetwork(
      () => buildNetwork(arch, { inputShape: [12, 12, 1], numClasses: 10, seed: 3 }),
      values(4 * 12 * 12, 21),
      Int32Array.from([0, 3, 5, 9]),
    )
    expect(w.error, `${w.name} differs`).toBeLessThan(1e-4)
  })

  it('NAS-Bench-201 network (every NB201 op)', async () => {
    const arch = {
      cell: {
        nodes: [
          { inputs: [0], ops: ['nor_conv_3x3'] },
          { inputs: [0, 1], ops: ['nor_conv_1x1', 'avg_pool_3x3'] },
          { inputs: [0, 1, 2], ops: ['skip_connect', 'none', 'nor_conv_3x3'] },
        ],
      },
    }
    const w = await compareNetwork(
      () =>
        buildNetwork(arch, {
          inputShape: [8, 8, 3],
          numClasses: 4,
          seed: 3,
          nb201: { channels: 4, cellsPerStage: 1 },
        }),
      values(4 * 8 * 8 * 3, 22),
      Int32Array.from([0, 1, 2, 3]),
    )
    expect(w.error, `${w.name} differs`).toBeLessThan(1e-4)
  })

  it('DARTS network (every DARTS op, reduction cells on even sizes)', async () => {
    const node = (a: [string, number], b: [string, number]) => ({
      inputs: [a[1], b[1]],
      ops: [a[0], b[0]],
    })
    const arch = {
      normal: {
        nodes: [
          node(['sep_conv_3x3', 0], ['sep_conv_5x5', 1]),
          node(['dil_conv_3x3', 0], ['dil_conv_5x5', 1]),
          node(['avg_pool_3x3', 2], ['skip_connect', 0]),
          node(['max_pool_3x3', 1], ['none', 3]),
        ],
      },
      reduce: {
        nodes: [
          node(['max_pool_3x3', 0], ['avg_pool_3x3', 1]),
          node(['sep_conv_5x5', 0], ['dil_conv_5x5', 1]),
          node(['skip_connect', 2], ['dil_conv_3x3', 0]),
          node(['sep_conv_3x3', 2], ['skip_connect', 1]),
        ],
      },
    }
    const w = await compareNetwork(
      () =>
        buildNetwork(arch, {
          inputShape: [8, 8, 3],
          numClasses: 4,
          seed: 3,
          darts: { channels: 4, layers: 3 },
        }),
      values(4 * 8 * 8 * 3, 23),
      Int32Array.from([3, 2, 1, 0]),
    )
    expect(w.error, `${w.name} differs`).toBeLessThan(1e-4)
  })

  it('NASNet-style network: the reference CNN on an MNIST batch of 8', async () => {
    // the seventh shuffled batch: the one where wasm disagreed most before its batch-norm
    // statistics were summed in two stages
    const batch = mnistBatches(7)[6]!
    const w = await compareNetwork(referenceCnn, batch.xs, batch.labels)
    expect(w.error, `${w.name} differs`).toBeLessThan(1e-4)
  }, 120_000)

  it('a short training ends with the same weights and loss as on cpu', async () => {
    const splits = splitDataset(loadMnist(), { validationSize: 64, trainSize: 32, seed: 2 })
    const results: Record<string, { loss: number; weights: Results }> = {}
    for (const backend of ['cpu', 'tensorflow'] as Backend[]) {
      await use(backend)
      // the reference CNN at half width on 14×14 images, to keep the cpu side short
      const net = buildNetwork(REFERENCE_CNN, {
        inputShape: [14, 14, 1],
        seed: 1,
        nasnet: { downsample: 1, channelScale: 0.5 },
      })
      const r = await trainNetwork(net, splits.train, {
        epochs: 1,
        batchSize: 8,
        learningRate: 0.05,
        resize: [14, 14],
        seed: 1,
      })
      expect(r.steps).toBe(4)
      const weights: Results = {}
      for (const v of net.namedVariables())
        weights[v.name] = v.variable.dataSync().slice() as Float32Array
      results[backend] = { loss: r.finalLoss, weights }
      net.dispose()
    }
    const w = worst(results.tensorflow!.weights, results.cpu!.weights, 'l2')
    expect(w.error, `${w.name} differs`).toBeLessThan(1e-4)
    expect(Math.abs(results.tensorflow!.loss - results.cpu!.loss)).toBeLessThan(
      1e-4 * Math.abs(results.cpu!.loss),
    )
  }, 60_000)
})
