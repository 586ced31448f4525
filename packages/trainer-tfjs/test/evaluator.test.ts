import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { batches, loadMnist, splitDataset } from '../src/data/index.js'
import { isNaskitError, nb201FromString } from '@naskit/core'
import { buildNetwork } from '../src/models/index.js'
import { cosineLearningRate, loadNetwork, saveNetwork, tfjsEvaluator } from '../src/train/index.js'
import { useCpu, useWasm } from './helpers.js'

const chainArch = {
  layers: [{ op: 'conv_3x3' }, { op: 'max_pool_3x3' }, { op: 'sep_conv_3x3' }, { op: 'attention' }],
  width_multiplier: 0.5,
  resolution: 12,
}

const small = {
  dataset: 'mnist' as const,
  epochs: 1,
  batchSize: 32,
  backend: 'wasm' as const,
  split: { validationSize: 64, trainSize: 64, testSize: 64 },
  latencyRepeats: 1,
  resize: [12, 12] as [number, number],
  build: { nb201: { channels: 4, cellsPerStage: 1 } },
}

describe('tfjsEvaluator', () => {
  beforeAll(async () => {
    await useWasm()
  })
  afterAll(async () => {
    await useCpu()
  })

  it('cosine schedule', () => {
    expect(cosineLearningRate(0.1, 0, 0, 100)).toBeCloseTo(0.1)
    expect(cosineLearningRate(0.1, 0, 50, 100)).toBeCloseTo(0.05)
    expect(cosineLearningRate(0.1, 0.01, 100, 100)).toBeCloseTo(0.01)
  })

  it('reports the metrics of a trial', async () => {
    const ev = tfjsEvaluator(small)
    const progress: number[] = []
    const m = await ev.evaluate(chainArch, {
      trialId: 1,
      seed: 1,
      progress: (p) => progress.push(p.fraction),
    })
    expect(m.objective).toBeGreaterThanOrEqual(0)
    expect(m.objective).toBeLessThanOrEqual(1)
    expect(m.val_accuracy).toBe(m.objective)
    expect(typeof m.test_accuracy).toBe('number')
    expect(m.params).toBeGreaterThan(0)
    expect(m.flops).toBeGreaterThan(0)
    expect(m.latency_ms).toBeGreaterThan(0)
    expect(m.train_time_ms).toBeGreaterThan(0)
    expect(m.backend).toBe('wasm')
    expect(progress.at(-1)).toBe(1)
  })

  it('the same seed gives the same result', async () => {
    const ev = tfjsEvaluator(small)
    const arch = nb201FromString(
      '|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_1x1~1|skip_connect~2|',
    )
    const a = await ev.evaluate(arch, { trialId: 1, seed: 5 })
    const b = await ev.evaluate(arch, { trialId: 2, seed: 5 })
    expect(a.final_loss).toBe(b.final_loss)
    expect(a.objective).toBe(b.objective)
  })

  it('trains cells whose dead-end nodes get no gradient', async () => {
    const ev = tfjsEvaluator(small)
    // node 2 feeds nothing (its outgoing edge is `none`), so its convolution gets no gradient
    const arch = nb201FromString(
      '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_1x1~1|+|nor_conv_3x3~0|none~1|none~2|',
    )
    const m = await ev.evaluate(arch, { trialId: 3, seed: 2 })
    expect(m.objective).toBeGreaterThanOrEqual(0)
    expect(Number.isFinite(m.final_loss as number)).toBe(true)
  })

  it('20 trials release every tensor they create', async () => {
    const ev = tfjsEvaluator({
      ...small,
      split: { validationSize: 32, trainSize: 32, testSize: 32 },
    })
    const archs = [
      chainArch,
      nb201FromString(
        '|nor_conv_3x3~0|+|none~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_1x1~1|skip_connect~2|',
      ),
      {
        blocks: [
          { kernel: 3, channels: 8, skip: true },
          { kernel: 5, channels: 8, skip: false },
        ],
      },
    ]
    const baseline = tf.memory().numTensors
    const bytes = tf.memory().numBytes
    for (let i = 0; i < 20; i++) {
      await ev.evaluate(archs[i % archs.length], { trialId: i, seed: i, fidelity: { epochs: 1 } })
    }
    expect(tf.memory().numTensors).toBe(baseline)
    expect(tf.memory().numBytes).toBe(bytes)
  }, 60_000)

  it('a diverging loss fails the trial with E_DIVERGED and leaks nothing', async () => {
    const ev = tfjsEvaluator({
      ...small,
      optimizer: 'sgd',
      learningRate: 1e9,
      gradClipNorm: 0,
      weightDecay: 0,
    })
    const before = tf.memory().numTensors
    const err = await ev
      .evaluate({ blocks: [{ kernel: 3, channels: 8, skip: false }] }, { trialId: 1, seed: 1 })
      .catch((e: unknown) => e)
    expect(isNaskitError(err, 'E_DIVERGED')).toBe(true)
    expect(tf.memory().numTensors).toBe(before)
  })

  it('an aborted trial stops with E_ABORTED', async () => {
    const ev = tfjsEvaluator(small)
    const ac = new AbortController()
    ac.abort()
    const err = await ev
      .evaluate(chainArch, { trialId: 1, seed: 1, signal: ac.signal })
      .catch((e: unknown) => e)
    expect(isNaskitError(err, 'E_ABORTED')).toBe(true)
  })

  it('exports a trained model (model.json + weights.bin) that reloads and predicts the same', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'naskit-export-'))
    try {
      const arch = {
        blocks: [
          { kernel: 3, channels: 8, skip: true },
          { kernel: 5, channels: 12, skip: true },
        ],
      }
      const ev = tfjsEvaluator({ ...small, exportDir: dir })
      const m = await ev.evaluate(arch, { trialId: 7, seed: 3 })
      expect(m.export_path).toBe(`${dir}/trial-7`)
      const net = await loadNetwork(`${dir}/trial-7`)
      const ds = loadMnist()
      const s = splitDataset(ds, { validationSize: 64, trainSize: 64, testSize: 64, seed: 3 })
      const batch = batches(s.test, { batchSize: 64, resize: [12, 12] }).next().value!
      const acc = tf.tidy(
        () =>
          tf
            .mean(tf.cast(tf.equal(tf.argMax(net.predict(batch.x), 1), batch.y), 'float32'))
            .dataSync()[0]!,
      )
      expect(acc).toBeCloseTo(m.test_accuracy as number, 6)
      // a second save/load round trip gives identical logits
      await saveNetwork(net, `${dir}/again`, {
        arch,
        space: 'nasnet',
        build: { inputShape: [12, 12, 1] },
      })
      const net2 = await loadNetwork(`${dir}/again`)
      const d = tf.tidy(
        () => tf.max(tf.abs(tf.sub(net.predict(batch.x), net2.predict(batch.x)))).dataSync()[0]!,
      )
      expect(d).toBe(0)
      tf.dispose([batch.x, batch.y])
      net.dispose()
      net2.dispose()
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('exportModel trains as evaluate does (same seed, same metrics) and saves the model', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'naskit-export-'))
    try {
      const arch = { blocks: [{ kernel: 3, channels: 8, skip: false }] }
      const ev = tfjsEvaluator(small)
      const m = await ev.evaluate(arch, { trialId: 4, seed: 11 })
      const out = await ev.exportModel(arch, { trialId: 4, seed: 11, dir, format: 'tfjs' })
      expect(out.files).toEqual(['model.json', 'weights.bin'])
      expect(out.metrics.test_accuracy).toBe(m.test_accuracy)
      expect(out.metrics.objective).toBe(m.objective)
      const net = await loadNetwork(dir)
      expect(net.paramCount()).toBe(m.params)
      net.dispose()
      const err = await ev
        .exportModel(arch, { trialId: 4, seed: 11, dir, format: 'onnx' })
        .catch((e: unknown) => e)
      expect(isNaskitError(err, 'E_BAD_OPTIONS')).toBe(true)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('trains for real: a small CNN learns MNIST digits', async () => {
    const ev = tfjsEvaluator({
      dataset: 'mnist',
      epochs: 2,
      batchSize: 32,
      backend: 'wasm',
      learningRate: 0.2,
      split: { validationSize: 256, trainSize: 1024, testSize: 256 },
      latencyRepeats: 1,
      resize: [14, 14],
    })
    const m = await ev.evaluate(
      {
        blocks: [
          { kernel: 3, channels: 16, skip: false },
          { kernel: 3, channels: 32, skip: false },
          { kernel: 3, channels: 32, skip: true },
        ],
      },
      { trialId: 1, seed: 1 },
    )
    // 64 steps on 1,024 images: far above chance (0.1)
    expect(m.objective).toBeGreaterThan(0.6)
    expect(m.test_accuracy).toBeGreaterThan(0.6)
  }, 60_000)

  it('unbuilt networks are disposed even when the build fails', async () => {
    const ev = tfjsEvaluator(small)
    const err = await ev
      .evaluate(
        { layers: [{ op: 'nope' }], width_multiplier: 1, resolution: 8 },
        { trialId: 1, seed: 1 },
      )
      .catch((e: unknown) => e)
    expect(isNaskitError(err, 'E_INVALID_ARCH')).toBe(true)
    expect(() => buildNetwork({ x: 1 })).toThrow()
  })
})

describe('contract with @naskit/core', () => {
  it('tfjsEvaluator is a core Evaluator and raises core NaskitErrors', async () => {
    const core = await import('@naskit/core')
    const ev: import('@naskit/core').Evaluator = tfjsEvaluator(small)
    expect(ev.name).toBe('tfjs')
    const err = await Promise.resolve()
      .then(() => ev.evaluate({ layers: 3 } as never, { trialId: 1, seed: 1 } as never))
      .catch((e: unknown) => e)
    expect(core.isNaskitError(err, 'E_INVALID_ARCH')).toBe(true)
  })
})
