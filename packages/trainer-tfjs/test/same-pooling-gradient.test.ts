import * as tf from '@tensorflow/tfjs'
import { afterAll, describe, expect, it } from 'vitest'
import { avgPoolSameExcludePad } from '../src/ops/index.js'
import { maxRelError, useCpu, useWasm, values } from './helpers.js'

describe("average pooling with 'same' padding (attention's pooled grid)", () => {
  afterAll(async () => {
    await useCpu()
  })

  it.each([
    [2, 7],
    [2, 8],
    [3, 7],
    [3, 5],
  ])('window %i on a %i-pixel square: the gradient of its forward pass', async (k, size) => {
    for (const backend of ['cpu', 'wasm'] as const) {
      await (backend === 'cpu' ? useCpu() : useWasm())
      const before = tf.memory().numTensors
      const xs = values(2 * size * size * 3, 5)
      const shape: [number, number, number, number] = [2, size, size, 3]
      const f = (x: tf.Tensor) => {
        const y = avgPoolSameExcludePad(x as tf.Tensor4D, k)
        return tf.sum(tf.mul(y, tf.tensor(values(y.size, 17), y.shape))) as tf.Scalar
      }
      const forward = tf.tidy(() => {
        const x = tf.tensor4d(xs, shape)
        return [
          avgPoolSameExcludePad(x, k).dataSync().slice(),
          tf.avgPool(x, k, k, 'same').dataSync().slice(),
        ]
      })
      // the forward pass is tfjs's own 'same' pooling (padded cells not counted)
      expect(maxRelError(forward[0]!, forward[1]!)).toBeLessThan(1e-6)
      const analytic = tf.tidy(() => tf.grad(f)(tf.tensor4d(xs, shape)).dataSync().slice())
      // the function is linear in x, so a central difference with a large step is exact
      const numeric = new Float32Array(xs.length)
      for (let i = 0; i < xs.length; i++) {
        const plus = xs.slice()
        const minus = xs.slice()
        plus[i]! += 0.5
        minus[i]! -= 0.5
        numeric[i] = tf.tidy(
          () =>
            f(tf.tensor4d(plus, shape)).dataSync()[0]! -
            f(tf.tensor4d(minus, shape)).dataSync()[0]!,
        )
      }
      expect(maxRelError(analytic, numeric)).toBeLessThan(1e-3)
      expect(tf.memory().numTensors).toBe(before)
    }
  })
})
