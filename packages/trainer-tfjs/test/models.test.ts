import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isNaskitError } from '@naskit/core'
import { buildNetwork, type DartsArch, inferSpace } from '../src/models/index.js'
import { useCpu, useWasm } from './helpers.js'

const cell = (pairs: Array<[string, number]>) => ({
  nodes: [0, 1, 2, 3].map((i) => ({
    inputs: [pairs[2 * i]![1], pairs[2 * i + 1]![1]],
    ops: [pairs[2 * i]![0], pairs[2 * i + 1]![0]],
  })),
})

/** The DARTS (second order) cells from Liu et al. 2019. */
export const DARTS_V2: DartsArch = {
  normal: cell([
    ['sep_conv_3x3', 0],
    ['sep_conv_3x3', 1],
    ['sep_conv_3x3', 0],
    ['sep_conv_3x3', 1],
    ['sep_conv_3x3', 1],
    ['skip_connect', 0],
    ['skip_connect', 0],
    ['dil_conv_3x3', 2],
  ]),
  reduce: cell([
    ['max_pool_3x3', 0],
    ['max_pool_3x3', 1],
    ['skip_connect', 2],
    ['max_pool_3x3', 1],
    ['max_pool_3x3', 0],
    ['skip_connect', 2],
    ['skip_connect', 2],
    ['max_pool_3x3', 1],
  ]),
}

describe('model builders', () => {
  beforeAll(async () => {
    await useWasm()
  })
  afterAll(async () => {
    await useCpu()
  })

  it('DARTS V2 at C=36, 20 cells has the published 3.35M parameters', () => {
    const net = buildNetwork(DARTS_V2, { darts: { channels: 36, layers: 20 } })
    expect(net.paramCount()).toBe(3349342)
    net.dispose()
  })

  it('DARTS network trains a step and gives logits', () => {
    const net = buildNetwork(DARTS_V2, {
      inputShape: [8, 8, 3],
      numClasses: 4,
      darts: { channels: 4, layers: 3 },
    })
    tf.tidy(() => {
      const x = tf.randomNormal([2, 8, 8, 3]) as tf.Tensor4D
      const { value, grads } = tf.variableGrads(
        () => tf.mean(tf.square(net.apply(x, true))) as tf.Scalar,
        net.trainableVariables(),
      )
      expect(Number.isFinite(value.dataSync()[0]!)).toBe(true)
      expect(Object.keys(grads).length).toBe(net.trainableVariables().length)
    })
    net.dispose()
  })

  it('chain network: every op, width multiplier, resize, downsampling', () => {
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
    expect(inferSpace(arch)).toBe('chain')
    const before = tf.memory().numTensors
    const net = buildNetwork(arch, { inputShape: [28, 28, 1], numClasses: 10 })
    tf.tidy(() => {
      const y = net.apply(tf.zeros([3, 28, 28, 1]) as tf.Tensor4D, true)
      expect(y.shape).toEqual([3, 10])
    })
    expect(net.flops()).toBeGreaterThan(0)
    net.dispose()
    expect(tf.memory().numTensors).toBe(before)
  })

  it('nasnet network with skips and channel changes', () => {
    const arch = {
      blocks: [
        { kernel: 3, channels: 16, skip: false },
        { kernel: 5, channels: 16, skip: true },
        { kernel: 7, channels: 32, skip: true },
        { kernel: 3, channels: 24, skip: true },
      ],
    }
    const net = buildNetwork(arch, { inputShape: [12, 12, 1], nasnet: { channelScale: 0.5 } })
    tf.tidy(() => {
      expect(net.apply(tf.ones([2, 12, 12, 1]) as tf.Tensor4D, true).shape).toEqual([2, 10])
    })
    net.dispose()
  })

  it('invalid values fail with E_INVALID_ARCH naming the decision', () => {
    const bad = [
      { layers: [{ op: 'conv_9x9' }], width_multiplier: 1, resolution: 8 },
      { blocks: [{ kernel: 4, channels: 16, skip: true }] },
      { normal: { nodes: [] }, reduce: { nodes: [] } },
      { foo: 1 },
    ]
    for (const arch of bad) {
      let err: unknown
      try {
        buildNetwork(arch).dispose()
      } catch (e) {
        err = e
      }
      expect(isNaskitError(err, 'E_INVALID_ARCH')).toBe(true)
    }
  })
})
