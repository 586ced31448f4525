import { nb201FromString, nb201Space, randomStrategy, Rng } from '@naskit/core'
import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  holdBatches,
  loadWeights,
  Nb201Supernet,
  recalibrateBatchNorm,
  resolveSamplingStrategy,
  SupernetTrainer,
  saveWeights,
  searchSubnets,
  supernetEvaluator,
  topArchitectures,
} from '../src/index'
import { maxAbsDiff, mnistSubset, shapesData, RES, RESIZE, snapshot, useBackend } from './helpers'

const space = nb201Space()
const tiny = (seed = 1) =>
  new Nb201Supernet(space, { channels: 4, cellsPerStage: 1, inputShape: [RES, RES, 1], seed })
const CONV = nb201FromString(
  '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|',
)

describe('recalibrateBatchNorm', () => {
  beforeAll(useBackend)
  const data = mnistSubset(128, 64)

  it('sets the path statistics to the average of the batch statistics, others untouched', () => {
    const sn = tiny()
    const held = holdBatches(data.train, { batchSize: 32, maxImages: 96, resize: RESIZE })
    const stem = sn.network.stem
    const expected = tf.tidy(() => {
      const means = held.map((b) => tf.mean(stem.conv.apply(b.x), [0, 1, 2]))
      return tf.div(tf.addN(means), means.length).dataSync() as Float32Array
    })
    const offPathBn = sn
      .namedVariables()
      .filter((v) => /node1\/edge0_[a-z_0-9]+\/nor_conv_1x1\/bn\/moving_mean/.test(v.name))
    const before = snapshot(offPathBn)
    try {
      recalibrateBatchNorm(sn, CONV, held)
      expect(maxAbsDiff(stem.bn.runningMean.dataSync(), expected)).toBeLessThan(1e-5)
      for (const [name, v] of snapshot(offPathBn)) expect(v).toEqual(before.get(name))
      // the momentum is back to its value
      for (const bn of sn.batchNorms()) expect(bn.momentum).toBe(0.1)
    } finally {
      for (const b of held) {
        b.x.dispose()
        b.y.dispose()
      }
      sn.dispose()
    }
  })
})

describe('supernetEvaluator', () => {
  beforeAll(useBackend)
  const data = mnistSubset(256, 128)

  it('ranks subnets by inherited accuracy after training, caches, and cleans up', async () => {
    const easy = shapesData()
    const sn = new Nb201Supernet(space, {
      channels: 4,
      cellsPerStage: 1,
      inputShape: [RES, RES, 1],
      numClasses: 4,
      seed: 3,
    })
    const tr = new SupernetTrainer(sn, easy.train, {
      epochs: 5,
      batchSize: 32,
      learningRate: 0.1,
      seed: 1,
    })
    await tr.train()
    tr.dispose()
    const before = tf.memory().numTensors
    const ev = supernetEvaluator(sn, {
      calibration: easy.train,
      validation: easy.validation,
      batchSize: 32,
      calibrationBatches: 2,
    })
    let convScore = Number.NaN
    try {
      const conv = ev.evaluate(CONV)
      convScore = conv.objective
      const empty = ev.evaluate(nb201FromString('|none~0|+|none~0|none~1|+|none~0|none~1|none~2|'))
      expect(conv.objective).toBeGreaterThan(0.4)
      expect(conv.objective).toBeLessThanOrEqual(1)
      expect(empty.objective).toBeLessThan(conv.objective - 0.1)
      expect(ev.evaluate(CONV)).toEqual(conv)
      expect(ev.evaluations).toBe(2)
      expect(() => ev.evaluate({ cell: { nodes: [] } })).toThrow(/not in space/)
    } finally {
      ev.dispose()
    }
    expect(tf.memory().numTensors).toBe(before)
    // a fresh evaluator over the same weights gives the same figures
    const again = supernetEvaluator(sn, {
      calibration: easy.train,
      validation: easy.validation,
      batchSize: 32,
      calibrationBatches: 2,
    })
    const ac = new AbortController()
    ac.abort()
    try {
      expect(again.evaluate(CONV).objective).toBe(convScore)
      expect(() => again.evaluate(CONV, { signal: ac.signal })).toThrow(/aborted/)
    } finally {
      again.dispose()
      sn.dispose()
    }
  })

  it('works with every sampling strategy: random, evolution and local search', async () => {
    const sn = tiny(4)
    const ev = supernetEvaluator(sn, {
      calibration: data.train,
      validation: data.validation,
      batchSize: 32,
      calibrationBatches: 1,
      resize: RESIZE,
    })
    try {
      for (const name of ['random', 'evolution', 'local-search']) {
        const strategy = await resolveSamplingStrategy(name)
        expect(strategy.kind).toBe('sampling')
        const r = await searchSubnets({ space, evaluator: ev, strategy, trials: 6, topK: 3 })
        expect(r.trials).toHaveLength(6)
        expect(r.top.length).toBeGreaterThan(0)
        expect(r.top.length).toBeLessThanOrEqual(3)
        for (const t of r.top) expect(space.isValid(t.arch)).toBe(true)
        const scores = r.top.map((t) => t.score)
        expect(scores).toEqual([...scores].sort((a, b) => b - a))
      }
      await expect(resolveSamplingStrategy('no-such-strategy')).rejects.toMatchObject({
        code: 'E_UNKNOWN_STRATEGY',
      })
    } finally {
      ev.dispose()
      sn.dispose()
    }
  })
})

describe('topArchitectures', () => {
  it('keeps the best distinct architectures, best first, skipping failures', () => {
    const rng = new Rng(1)
    const a = space.sample(rng)
    const b = space.sample(rng)
    const ka = space.key(a)
    const kb = space.key(b)
    const trials = [
      { id: 0, arch: a, key: ka, status: 'ok' as const, objective: 0.5, metrics: {} },
      { id: 1, arch: b, key: kb, status: 'ok' as const, objective: 0.7, metrics: {} },
      { id: 2, arch: a, key: ka, status: 'ok' as const, objective: 0.9, metrics: {} },
      { id: 3, arch: b, key: kb, status: 'failed' as const, objective: null, metrics: {} },
    ]
    expect(topArchitectures(trials, 5).map((t) => [t.key, t.score])).toEqual([
      [ka, 0.9],
      [kb, 0.7],
    ])
    expect(topArchitectures(trials, 1)).toHaveLength(1)
  })
})

describe('saveWeights / loadWeights', () => {
  beforeAll(useBackend)

  it('round-trips every variable and refuses a supernet of another shape', () => {
    const a = tiny(1)
    const b = tiny(2)
    const other = new Nb201Supernet(space, {
      channels: 8,
      cellsPerStage: 1,
      inputShape: [RES, RES, 1],
    })
    const x = tf.randomNormal([2, RES, RES, 1]) as tf.Tensor4D
    try {
      const blobs = saveWeights(a)
      loadWeights(b, blobs)
      const ya = tf.tidy(() => a.forward(x, CONV, false).dataSync())
      const yb = tf.tidy(() => b.forward(x, CONV, false).dataSync())
      expect(maxAbsDiff(ya, yb)).toBe(0)
      expect(() => loadWeights(other, blobs)).toThrow(/does not fit/)
    } finally {
      x.dispose()
      a.dispose()
      b.dispose()
      other.dispose()
    }
  })
})

void randomStrategy
