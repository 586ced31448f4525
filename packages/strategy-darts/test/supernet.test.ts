import { dartsSpace, nb201Space } from '@naskit/core'
import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  cellLayout,
  DartsSupernet,
  type EdgeWeights,
  rowsToScalars,
  weightedSum,
} from '../src/supernet.js'
import { randomBatch, useBackend } from './helpers.js'

beforeAll(async () => {
  await useBackend('cpu')
})

describe('DartsSupernet', () => {
  it('has one alpha row per edge and one column per op (beta for darts reduction cells)', () => {
    const nb = new DartsSupernet(nb201Space(), { channels: 4, layers: 1, inputShape: [8, 8, 1] })
    expect(nb.alphas.normal!.shape).toEqual([6, 5])
    expect(nb.alphas.reduce).toBeNull()
    nb.dispose()
    const d = new DartsSupernet(dartsSpace(), { channels: 2, layers: 3, inputShape: [8, 8, 1] })
    expect(d.alphas.normal!.shape).toEqual([14, 8])
    expect(d.alphas.reduce!.shape).toEqual([14, 8])
    expect(cellLayout(dartsSpace()).kinds).toEqual(['normal', 'reduce'])
    d.dispose()
  })

  it('computes the weighted sum of its candidates: one-hot weights give that single op', () => {
    const net = new DartsSupernet(nb201Space(), { channels: 4, layers: 1, inputShape: [8, 8, 1] })
    const b = randomBatch(4, [8, 8, 1], 9)
    const ops = net.layout.ops
    // the first mixed op of the first cell is linear in its weights
    const mixed = net.network.namedVariables()
    expect(mixed.length).toBeGreaterThan(0)
    const mixOp = (
      net.network as unknown as {
        body: Array<{
          edges: Array<Array<{ op: { apply: (x: tf.Tensor4D, t: boolean) => tf.Tensor4D } }>>
        }>
      }
    ).body[0]!.edges[0]![0]!.op
    const x = tf.randomNormal([2, 8, 8, 4], 0, 1, 'float32', 4) as tf.Tensor4D
    const run = (weights: number[]) =>
      tf.tidy(() => {
        net.mixing.current = {
          normal: Array.from(
            { length: 6 },
            () => ({ mode: 'soft', weights: weights.map((w) => tf.scalar(w)) }) as EdgeWeights,
          ),
          reduce: null,
        }
        try {
          return mixOp.apply(x, false)
        } finally {
          net.mixing.current = { normal: null, reduce: null }
        }
      })
    const skip = ops.indexOf('skip_connect')
    const conv = ops.indexOf('nor_conv_3x3')
    const w1 = ops.map((_, k) => (k === skip ? 1 : 0))
    const w2 = ops.map((_, k) => (k === conv ? 1 : 0))
    const w3 = ops.map((_, k) => (k === skip ? 0.3 : k === conv ? 0.7 : 0))
    const [a, c, m] = [run(w1), run(w2), run(w3)]
    const expected = tf.add(tf.mul(a, 0.3), tf.mul(c, 0.7))
    expect(tf.max(tf.abs(tf.sub(m, expected))).dataSync()[0]!).toBeLessThan(1e-5)
    // skip_connect alone is the identity on a stride-1 edge
    expect(tf.max(tf.abs(tf.sub(a, x))).dataSync()[0]!).toBeLessThan(1e-6)
    // the whole supernet runs with one-hot weights too
    const logits = tf.tidy(() => {
      const hot = tf.oneHot(tf.fill([6], conv, 'int32') as tf.Tensor1D, ops.length)
      const rows = rowsToScalars(tf.cast(hot, 'float32') as tf.Tensor2D)
      const normal = rows.map((weights) => ({ mode: 'soft', weights }) as EdgeWeights)
      return net.forwardWith(b.x, false, { normal, reduce: null })
    })
    expect(logits.shape).toEqual([4, 10])
    tf.dispose([a, c, m, expected, x, logits, b.x, b.y])
    net.dispose()
  })

  it('weightedSum: value and gradients (inputs and weights) equal those of Σ mul + addN', () => {
    const a = tf.variable(tf.tensor1d([0.1, -0.2, 0.3]))
    const x = tf.variable(tf.randomNormal([2, 3, 3, 2], 0, 1, 'float32', 5))
    const run = (custom: boolean) =>
      tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => {
          const w = tf.unstack(tf.softmax(a)) as tf.Scalar[]
          const ys = [tf.relu(x), tf.mul(x, 2), tf.square(x)] as tf.Tensor4D[]
          const s = custom
            ? weightedSum(ys, w)
            : tf.addN(ys.map((y, k) => tf.mul(y, w[k]!)) as tf.Tensor4D[])
          // a non-linear loss, so that dy differs from one position to the next
          return tf.sum(tf.mul(s, tf.sin(s))) as tf.Scalar
        })
        return [value, grads[a.name]!, grads[x.name]!].map((t) => Array.from(t.dataSync()))
      })
    const [ref, got] = [run(false), run(true)]
    ref.forEach((r, i) => {
      r.forEach((v, j) => {
        expect(got[i]![j]!).toBeCloseTo(v, 5)
      })
    })
    expect(Math.max(...ref[1]!.map(Math.abs))).toBeGreaterThan(1e-3)
    a.dispose()
    x.dispose()
  })

  it('refuses to run a mixed op outside forwardWith', () => {
    const net = new DartsSupernet(nb201Space(), { channels: 4, layers: 1, inputShape: [8, 8, 1] })
    const x = tf.zeros([1, 8, 8, 1]) as tf.Tensor4D
    expect(() => net.network.apply(x, false)).toThrow(/architecture weights/)
    x.dispose()
    net.dispose()
  })
})
