import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { datasetFromArrays } from '../src/data/index.js'
import { isNaskitError } from '@naskit/core'
import { buildNetwork, ChainNetwork } from '../src/models/index.js'
import { loadNetwork, tfjsEvaluator } from '../src/train/index.js'
import { batchNorms } from '../src/ops/index.js'
import {
  backendMemoryLimit,
  estimateMemory,
  formatBytes,
  HEAP_FACTOR,
  inferenceBatchWithin,
  inferenceBytesPerImage,
  MIN_TRAINING_RATIO,
  measureFootprint,
  trainingBytesPerImage,
  WASM_MEMORY_MAXIMUM,
  WASM_MEMORY_SHARE,
} from '../src/train/memory.js'
import { trainNetwork } from '../src/train/trainer.js'
import { useCpu, useWasm, values } from './helpers.js'

const GiB = 2 ** 30

/** The maximum (bytes) of the linear memory a WebAssembly binary declares or imports. */
function wasmMemoryMaximum(file: string): number | null {
  const b = readFileSync(file)
  let p = 8
  const leb = () => {
    let r = 0
    let s = 0
    let x: number
    do {
      x = b[p++]!
      r += (x & 0x7f) * 2 ** s
      s += 7
    } while (x & 0x80)
    return r
  }
  const limits = () => {
    const flags = leb()
    leb()
    return flags & 1 ? leb() * 65536 : null
  }
  while (p < b.length) {
    const id = b[p++]!
    const size = leb()
    const end = p + size
    if (id === 5) {
      leb()
      return limits()
    }
    if (id === 2) {
      const n = leb()
      for (let i = 0; i < n; i++) {
        for (let k = 0; k < 2; k++) {
          const length = leb() // module and field names
          p += length
        }
        const kind = b[p++]!
        if (kind === 0) leb()
        else if (kind === 1) {
          p++
          limits()
        } else if (kind === 2) return limits()
        else p += 2
      }
    }
    p = end
  }
  return null
}

/** A small labelled image set of 12×12 grey images (values are noise; labels cycle). */
function tinyDataset(count = 128) {
  return datasetFromArrays({
    name: 'tiny',
    images: values(count * 144, 3).map((v) => (v + 1) / 2),
    labels: Array.from({ length: count }, (_, i) => i % 10),
    imageShape: [12, 12, 1],
    numClasses: 10,
    testImages: values(64 * 144, 4).map((v) => (v + 1) / 2),
    testLabels: Array.from({ length: 64 }, (_, i) => i % 10),
  })
}

const chainAt = (resolution: number) => ({
  layers: [{ op: 'conv_3x3' }, { op: 'max_pool_3x3' }, { op: 'sep_conv_3x3' }],
  width_multiplier: 0.5,
  resolution,
})

describe('memory estimate', () => {
  beforeAll(async () => {
    await useWasm()
  })
  afterAll(async () => {
    await useCpu()
  })

  it('adds variables, gradient copies, optimizer slots and batch-scaled activations', () => {
    const footprint = {
      variableBytes: 1000,
      trainableBytes: 80,
      inferenceBytesPerImage: 100,
      trainingBytesPerImage: 500,
    }
    const momentum = estimateMemory(footprint, { batchSize: 10 })
    // weights, 4 gradient copies, 1 momentum slot; the batch-1 peak held one gradient copy
    expect(momentum.training).toBe(1000 + 80 * 5 + 10 * (500 - 80) * HEAP_FACTOR)
    expect(momentum.inference).toBe(1000 + 10 * 100 * HEAP_FACTOR)
    expect(momentum.bytes).toBe(momentum.training)
    expect(momentum.atLeast).toBe(false)
    const sgd = estimateMemory(footprint, { batchSize: 10, optimizer: 'sgd' })
    expect(sgd.training).toBe(momentum.training - 80)
    const adam = estimateMemory(footprint, { batchSize: 10, optimizer: 'adam' })
    expect(adam.training).toBe(momentum.training + 80)
    // activations scale with the batch, the rest does not
    const doubled = estimateMemory(footprint, { batchSize: 20 })
    expect(doubled.training - momentum.training).toBe(10 * 420 * HEAP_FACTOR)
    // a large inference batch can dominate
    const wide = estimateMemory(footprint, { batchSize: 10, inferenceBatchSize: 1000 })
    expect(wide.bytes).toBe(wide.inference)
    expect(wide.inference).toBe(1000 + 1000 * 100 * HEAP_FACTOR)
    // without a measured training step, a lower bound from the forward pass
    const bound = estimateMemory({ ...footprint, trainingBytesPerImage: null }, { batchSize: 10 })
    expect(bound.atLeast).toBe(true)
    expect(bound.training).toBe(1000 + 80 * 5 + 10 * 100 * MIN_TRAINING_RATIO)
    expect(bound.training).toBeLessThan(momentum.training)
  })

  it('picks the largest inference batch within a limit', () => {
    const sizes = { variableBytes: 1000, inferenceBytesPerImage: 100 }
    const per = 100 * HEAP_FACTOR
    expect(inferenceBatchWithin(1000 + 10 * per, sizes, 256)).toBe(10)
    expect(inferenceBatchWithin(1e12, sizes, 256)).toBe(256)
    expect(inferenceBatchWithin(10, sizes, 256)).toBe(1)
    expect(inferenceBatchWithin(Number.POSITIVE_INFINITY, sizes, 64)).toBe(64)
  })

  it('knows the limits of the backends', () => {
    expect(backendMemoryLimit('wasm', 64 * GiB)).toBe(WASM_MEMORY_MAXIMUM * WASM_MEMORY_SHARE)
    expect(backendMemoryLimit('wasm', 4 * GiB)).toBe(2 * GiB)
    expect(backendMemoryLimit('cpu', 16 * GiB)).toBe(8 * GiB)
    expect(backendMemoryLimit('tensorflow', 16 * GiB)).toBe(8 * GiB)
    expect(backendMemoryLimit('wasm')).toBeGreaterThan(0)
  })

  it('the wasm maximum is the one the installed tfjs-backend-wasm binaries declare', () => {
    const entry = createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm')
    const dir = path.dirname(entry)
    for (const f of [
      'tfjs-backend-wasm.wasm',
      'tfjs-backend-wasm-simd.wasm',
      'tfjs-backend-wasm-threaded-simd.wasm',
    ]) {
      expect(wasmMemoryMaximum(path.join(dir, f)), f).toBe(WASM_MEMORY_MAXIMUM)
    }
  })

  it('formats sizes', () => {
    expect(formatBytes(3.426 * GiB)).toBe('3.43 GiB')
    expect(formatBytes(45.04 * GiB)).toBe('45.0 GiB')
    expect(formatBytes(320 * 2 ** 20)).toBe('320 MiB')
    expect(formatBytes(1500)).toBe('1 KiB')
  })

  it('measures the forward pass of a network: grows with the resolution, leaks and changes nothing', () => {
    const convs = {
      layers: [{ op: 'conv_3x3' }, { op: 'conv_3x3' }, { op: 'sep_conv_3x3' }],
      width_multiplier: 1,
      resolution: 16,
    }
    const small = new ChainNetwork(convs, { inputShape: [12, 12, 1] })
    const large = new ChainNetwork({ ...convs, resolution: 32 }, { inputShape: [12, 12, 1] })
    try {
      const before = tf.memory()
      const a = inferenceBytesPerImage(small)
      const b = inferenceBytesPerImage(large)
      expect(a).toBeGreaterThan(0)
      // convolution activations grow with the number of pixels (4× at twice the resolution)
      expect(b / a).toBeGreaterThan(3.5)
      expect(b / a).toBeLessThan(4.1)
      expect(inferenceBytesPerImage(small)).toBe(a)
      expect(tf.memory().numTensors).toBe(before.numTensors)
      expect(tf.memory().numBytes).toBe(before.numBytes)
    } finally {
      small.dispose()
      large.dispose()
    }
  })

  it('measures a training step on one image without changing the network', async () => {
    const net = buildNetwork(chainAt(24), { inputShape: [12, 12, 1], numClasses: 10 })
    try {
      const variables = () => net.namedVariables().map((v) => Array.from(v.variable.dataSync()))
      const weights = variables()
      const tracked = batchNorms(net).map((b) => b.batchesTracked)
      const before = tf.memory()
      const footprint = await measureFootprint(net, { training: true })
      expect(footprint.trainableBytes).toBe(net.paramCount() * 4)
      expect(footprint.variableBytes).toBeGreaterThan(footprint.trainableBytes)
      expect(footprint.trainingBytesPerImage).toBe(await trainingBytesPerImage(net))
      expect(footprint.trainingBytesPerImage!).toBeGreaterThan(
        footprint.inferenceBytesPerImage * MIN_TRAINING_RATIO,
      )
      expect(tf.memory().numTensors).toBe(before.numTensors)
      expect(tf.memory().numBytes).toBe(before.numBytes)
      // batch-norm running statistics and counters included
      expect(variables()).toEqual(weights)
      expect(batchNorms(net).map((b) => b.batchesTracked)).toEqual(tracked)
    } finally {
      net.dispose()
    }
  })

  it('a real training step at batch B peaks at B times the one-image step, below the estimate', async () => {
    const ds = tinyDataset(32)
    const view = {
      set: ds.train,
      indices: Uint32Array.from({ length: 32 }, (_, i) => i),
      dataset: ds,
    }
    const archs = [
      chainAt(24),
      { ...chainAt(16), layers: [{ op: 'attention' }, { op: 'avg_pool_3x3' }, { op: 'conv_5x5' }] },
    ]
    for (const arch of archs) {
      const net = buildNetwork(arch, { inputShape: [12, 12, 1], numClasses: 10 })
      try {
        const footprint = await measureFootprint(net, { training: true })
        const estimate = estimateMemory(footprint, { batchSize: 32 })
        const start = tf.memory().numBytes
        const profile = await tf.profile(async () => {
          await trainNetwork(net, view, { epochs: 1, batchSize: 32, seed: 1 })
        })
        const peak = profile.peakBytes - start
        const ratio = peak / (32 * footprint.trainingBytesPerImage!)
        expect(ratio).toBeGreaterThan(0.9)
        expect(ratio).toBeLessThan(1.1)
        expect(estimate.training).toBeGreaterThan(peak)
      } finally {
        net.dispose()
      }
    }
  })
})

describe('tfjsEvaluator and memory', () => {
  const base = {
    dataset: tinyDataset,
    epochs: 1,
    batchSize: 32,
    backend: 'wasm' as const,
    split: { validationSize: 32, trainSize: 64, testSize: 32 },
    latencyRepeats: 1,
  }
  /** A limit between the estimates of the test arch at 12 px and at 48 px. */
  let between = 0

  beforeAll(async () => {
    await useWasm()
    const estimateAt = async (resolution: number) => {
      const net = buildNetwork(chainAt(48), {
        inputShape: [12, 12, 1],
        numClasses: 10,
        chain: { resolution },
      })
      try {
        const footprint = await measureFootprint(net, { training: true })
        return estimateMemory(footprint, { batchSize: 32 }).bytes
      } finally {
        net.dispose()
      }
    }
    const small = await estimateAt(12)
    const large = await estimateAt(48)
    expect(large / small).toBeGreaterThan(8)
    between = Math.sqrt(small * large)
  })
  afterAll(async () => {
    await useCpu()
  })

  it('trains a chain architecture too large for the limit at the images’ size, and says so once', async () => {
    const lines: string[] = []
    const ev = tfjsEvaluator({ ...base, memoryLimit: between, log: { warn: (m) => lines.push(m) } })
    const before = tf.memory().numTensors
    const a = await ev.evaluate(chainAt(48), { trialId: 1, seed: 1 })
    const b = await ev.evaluate(chainAt(40), { trialId: 2, seed: 2 })
    expect(a.trained_resolution).toBe(12)
    expect(b.trained_resolution).toBe(12)
    expect(a.memory_estimate_mib as number).toBeLessThanOrEqual(between / 2 ** 20 + 0.05)
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/^naskit: chain resolution 48 px needs (~|at least )\S+ (KiB|MiB) /)
    expect(lines[0]).toContain('on wasm')
    expect(lines[0]).toContain('the dataset’s 12 px')
    expect(lines[0]).toContain('trained_resolution')
    expect(lines[0]).toContain('build.chain.resolution')
    expect(tf.memory().numTensors).toBe(before)
    // the fallback trains exactly as choosing the resolution would
    const chosen = await tfjsEvaluator({
      ...base,
      build: { chain: { resolution: 12 } },
      memoryLimit: between,
    }).evaluate(chainAt(48), { trialId: 1, seed: 1 })
    expect(chosen.final_loss).toBe(a.final_loss)
    expect(chosen.objective).toBe(a.objective)
  }, 60_000)

  it('leaves architectures that fit alone', async () => {
    const lines: string[] = []
    const ev = tfjsEvaluator({ ...base, memoryLimit: between, log: { warn: (m) => lines.push(m) } })
    const m = await ev.evaluate(chainAt(12), { trialId: 1, seed: 1 })
    expect(m.trained_resolution).toBe(12)
    const wide = await tfjsEvaluator(base).evaluate(chainAt(48), { trialId: 1, seed: 1 })
    expect(wide.trained_resolution).toBe(48)
    expect(lines).toEqual([])
  }, 60_000)

  it('exports the model at the resolution it was trained at', async () => {
    const { mkdtemp, rm } = await import('node:fs/promises')
    const { tmpdir } = await import('node:os')
    const dir = await mkdtemp(path.join(tmpdir(), 'naskit-memory-'))
    try {
      const ev = tfjsEvaluator({ ...base, memoryLimit: between, log: { warn() {} } })
      await ev.exportModel(chainAt(48), { trialId: 1, seed: 1, dir, format: 'tfjs' })
      const net = await loadNetwork(dir)
      expect((net as ChainNetwork).resolution).toBe(12)
      net.dispose()
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  }, 60_000)

  it('fails fast with E_TOO_LARGE when the resolution was chosen, naming what to change', async () => {
    const ev = tfjsEvaluator({
      ...base,
      build: { chain: { resolution: 48 } },
      memoryLimit: between,
    })
    const before = tf.memory().numTensors
    const t0 = performance.now()
    const err = (await ev
      .evaluate(chainAt(224), { trialId: 1, seed: 1 })
      .catch((e: unknown) => e)) as Error & { details?: Record<string, unknown> }
    expect(performance.now() - t0).toBeLessThan(5000)
    expect(isNaskitError(err, 'E_TOO_LARGE')).toBe(true)
    expect(err.message).toMatch(
      /resolution 48 px needs (~|at least )\S+ (KiB|MiB) to train at batch size 32 on wasm/,
    )
    expect(err.message).toContain(`the limit is ${formatBytes(between)}`)
    expect(err.message).toContain('batchSize')
    expect(err.message).toContain('build.chain.resolution')
    expect(err.details).toMatchObject({ resolution: 48, batchSize: 32, backend: 'wasm' })
    expect(tf.memory().numTensors).toBe(before)
  })

  it('fails with E_TOO_LARGE when even the images’ size does not fit, or the network is not a chain', async () => {
    const ev = tfjsEvaluator({ ...base, memoryLimit: 4096, log: { warn() {} } })
    const before = tf.memory().numTensors
    const chain = (await ev
      .evaluate(chainAt(48), { trialId: 1, seed: 1 })
      .catch((e: unknown) => e)) as Error
    expect(isNaskitError(chain, 'E_TOO_LARGE')).toBe(true)
    expect(chain.message).toContain('even at the dataset’s 12 px')
    expect(chain.message).toContain('at its resolution of 48 px')
    const cell = (await ev
      .evaluate({ blocks: [{ kernel: 3, channels: 8, skip: false }] }, { trialId: 2, seed: 1 })
      .catch((e: unknown) => e)) as Error
    expect(isNaskitError(cell, 'E_TOO_LARGE')).toBe(true)
    expect(cell.message).toMatch(
      /^A nasnet network needs (~|at least )\S+ (KiB|MiB) to train at batch size 32 on wasm/,
    )
    expect(tf.memory().numTensors).toBe(before)
  })

  it('rejects a limit that is not a positive number', async () => {
    const err = await tfjsEvaluator({ ...base, memoryLimit: 0 })
      .evaluate(chainAt(12), { trialId: 1, seed: 1 })
      .catch((e: unknown) => e)
    expect(isNaskitError(err, 'E_BAD_OPTIONS')).toBe(true)
  })
})
