/**
 * Gradients on real images, not only on random tensors: MNIST batches through the reference
 * CNN on wasm, checked against the cpu backend (which sums in double precision) and against
 * double-precision batch-norm statistics.
 */
import * as tf from '@tensorflow/tfjs'
import { afterAll, describe, expect, it } from 'vitest'
import type { NasnetNetwork } from '../src/models/index.js'
import { BatchNorm } from '../src/ops/index.js'
import { mnistBatches, networkGradients, referenceCnn, use, worst } from './backend-parity.js'

/** Mean and (biased) variance per channel of an NHWC array, in double precision. */
function moments64(x: Float32Array, channels: number): { mean: number[]; variance: number[] } {
  const m = x.length / channels
  const mean = new Array<number>(channels).fill(0)
  const variance = new Array<number>(channels).fill(0)
  for (let i = 0; i < x.length; i++) mean[i % channels]! += x[i]!
  for (let c = 0; c < channels; c++) mean[c]! /= m
  for (let i = 0; i < x.length; i++) variance[i % channels]! += (x[i]! - mean[i % channels]!) ** 2
  for (let c = 0; c < channels; c++) variance[c]! /= m
  return { mean, variance }
}

describe('gradients on MNIST batches', () => {
  afterAll(async () => {
    await use('cpu')
  })

  it('wasm batch-norm statistics of 28×28 maps are those of double precision', async () => {
    await use('wasm')
    const net = referenceCnn() as NasnetNetwork
    for (const batch of mnistBatches(4)) {
      tf.tidy(() => {
        const conv = net.stem.conv.apply(tf.tensor4d(batch.xs, [8, 28, 28, 1]))
        const values = conv.dataSync() as Float32Array
        const exact = moments64(values, 16)
        const bn = new BatchNorm(16, { momentum: 1 })
        const y = bn.apply(conv, true).dataSync()
        const mean = bn.runningMean.dataSync()
        const unbiased = bn.runningVar.dataSync()
        const count = values.length / 16
        let worstMean = 0
        let worstVar = 0
        let worstOut = 0
        for (let c = 0; c < 16; c++) {
          const sd = Math.sqrt(exact.variance[c]!)
          worstMean = Math.max(worstMean, Math.abs(mean[c]! - exact.mean[c]!) / sd)
          const v = (unbiased[c]! * (count - 1)) / count
          worstVar = Math.max(worstVar, Math.abs(v - exact.variance[c]!) / exact.variance[c]!)
        }
        for (let i = 0; i < values.length; i++) {
          const c = i % 16
          const want = (values[i]! - exact.mean[c]!) / Math.sqrt(exact.variance[c]! + 1e-5)
          worstOut = Math.max(worstOut, Math.abs(y[i]! - want))
        }
        // a single float32 pass over the 6,272 values of a channel is off by ~2e-5
        expect(worstMean).toBeLessThan(2e-6)
        expect(worstVar).toBeLessThan(2e-6)
        expect(worstOut).toBeLessThan(2e-6)
        bn.dispose()
      })
    }
    net.dispose()
  })

  it('wasm gradients of the reference CNN on an MNIST batch of 8 equal cpu', async () => {
    // The seventh shuffled batch: with one-pass batch-norm sums on wasm, an activation of
    // block2 sat on the other side of a ReLU than on cpu, and every layer below it differed
    // by up to 8.8e-3 (relative L2).
    const batch = mnistBatches(7)[6]!
    const results: Record<string, Record<string, Float32Array>> = {}
    for (const backend of ['cpu', 'wasm'] as const) {
      await use(backend)
      const before = tf.memory().numTensors
      const net = referenceCnn()
      results[backend] = networkGradients(net, batch.xs, batch.labels)
      net.dispose()
      expect(tf.memory().numTensors).toBe(before)
    }
    const w = worst(results.wasm!, results.cpu!, 'l2')
    expect(w.error, `${w.name} differs`).toBeLessThan(1e-4)
  }, 120_000)
})
