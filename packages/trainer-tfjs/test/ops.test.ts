import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isNaskitError } from '@naskit/core'
import {
  avgPoolExcludePad,
  BatchNorm,
  batchNorms,
  countMacs,
  createOp,
  initContext,
  OP_NAMES,
  recalibrateBatchNorms,
} from '../src/ops/index.js'
import { maxRelError, useCpu, useWasm, values } from './helpers.js'

const N = 2
const H = 8

function runOp(
  name: string,
  cIn: number,
  cOut: number,
  stride: number,
  training: boolean,
  maxTokens?: number,
) {
  const op = createOp(name, { cIn, cOut, stride, heads: 2, maxTokens }, initContext(7))
  const out: { y: Float32Array; shape: number[]; grads: Float32Array[] } = {
    y: new Float32Array(),
    shape: [],
    grads: [],
  }
  tf.tidy(() => {
    const x = tf.tensor4d(values(N * H * H * cIn, 11), [N, H, H, cIn])
    const vars = op.trainableVariables()
    const y = op.apply(x, false)
    // a fixed random projection of the output (a sum of squares is BN-invariant)
    const r = tf.tensor(values(y.size, 13), y.shape)
    const f = () => tf.sum(tf.mul(op.apply(x, training), r))
    out.y = y.dataSync().slice() as Float32Array
    out.shape = y.shape
    if (vars.length > 0) {
      const { grads } = tf.variableGrads(f as () => tf.Scalar, vars)
      for (const v of vars) out.grads.push(grads[v.name]!.dataSync().slice() as Float32Array)
    }
  })
  const params = op.paramCount()
  op.dispose()
  return { ...out, params }
}

describe('op library', () => {
  beforeAll(async () => {
    await useWasm()
  })
  afterAll(async () => {
    await useCpu()
  })

  const cases: Array<[string, number, number, number]> = []
  for (const name of OP_NAMES) {
    cases.push([name, 4, 4, 1])
    cases.push([name, 4, 8, 2])
    if (name.endsWith('pool_3x3')) cases.push([name, 4, 4, 2])
  }

  it.each(cases)(
    '%s (%i→%i, stride %i): same output and gradients on wasm and cpu',
    async (name, cIn, cOut, stride) => {
      await useCpu()
      const ref = runOp(name, cIn, cOut, stride, true)
      await useWasm()
      const before = tf.memory().numTensors
      const got = runOp(name, cIn, cOut, stride, true)
      expect(tf.memory().numTensors).toBe(before)
      expect(got.shape).toEqual([N, H / stride, H / stride, cOut])
      expect(got.params).toBe(ref.params)
      expect(maxRelError(got.y, ref.y)).toBeLessThan(1e-4)
      expect(got.grads.length).toBe(ref.grads.length)
      for (let i = 0; i < got.grads.length; i++) {
        expect(maxRelError(got.grads[i]!, ref.grads[i]!)).toBeLessThan(1e-3)
      }
    },
  )

  it('attention over a pooled grid (more positions than maxTokens) matches cpu', async () => {
    await useCpu()
    const ref = runOp('attention', 4, 4, 1, true, 16)
    await useWasm()
    const got = runOp('attention', 4, 4, 1, true, 16)
    expect(got.shape).toEqual([N, H, H, 4])
    expect(maxRelError(got.y, ref.y)).toBeLessThan(1e-4)
    for (let i = 0; i < got.grads.length; i++) {
      expect(maxRelError(got.grads[i]!, ref.grads[i]!)).toBeLessThan(1e-3)
    }
  })

  it.each([
    [1, 5, 5],
    [2, 5, 5],
    [2, 6, 6],
    [1, 6, 6],
  ])(
    'average pooling (stride %i, input %i×%i) has the gradient of its forward pass',
    async (stride, size, _width) => {
      for (const backend of ['cpu', 'wasm'] as const) {
        await (backend === 'cpu' ? useCpu() : useWasm())
        const before = tf.memory().numTensors
        const xs = values(2 * size * size * 3, 5)
        const f = (x: tf.Tensor4D) => {
          const y = avgPoolExcludePad(x, 3, stride, 1)
          const w = tf.tensor(values(y.size, 17), y.shape)
          return tf.sum(tf.mul(y, w)) as tf.Scalar
        }
        const analytic = tf.tidy(() =>
          tf
            .grad(f as (x: tf.Tensor) => tf.Scalar)(tf.tensor4d(xs, [2, size, size, 3]))
            .dataSync()
            .slice(),
        ) as Float32Array
        // the function is linear in x, so a central difference with a large step is exact
        const numeric = new Float32Array(xs.length)
        const eps = 0.5
        for (let i = 0; i < xs.length; i++) {
          const plus = xs.slice()
          const minus = xs.slice()
          plus[i] = (plus[i] as number) + eps
          minus[i] = (minus[i] as number) - eps
          numeric[i] = tf.tidy(
            () =>
              (f(tf.tensor4d(plus, [2, size, size, 3])).dataSync()[0]! -
                f(tf.tensor4d(minus, [2, size, size, 3])).dataSync()[0]!) /
              (2 * eps),
          )
        }
        expect(maxRelError(analytic, numeric)).toBeLessThan(1e-3)
        expect(tf.memory().numTensors).toBe(before)
      }
    },
  )

  it('counts parameters as NAS-Bench-201 does', () => {
    const count = (name: string, c: number) => {
      const op = createOp(name, { cIn: c, cOut: c, stride: 1 }, initContext(1))
      const n = op.paramCount()
      op.dispose()
      return n
    }
    expect(count('nor_conv_3x3', 16)).toBe(9 * 16 * 16 + 32)
    expect(count('nor_conv_1x1', 16)).toBe(16 * 16 + 32)
    expect(count('skip_connect', 16)).toBe(0)
    expect(count('avg_pool_3x3', 16)).toBe(0)
    expect(count('none', 16)).toBe(0)
    // DARTS: sep = 2 × (dw k² C + pw C² + BN 2C); dil = dw k² C + pw C² + BN 2C
    expect(count('sep_conv_3x3', 16)).toBe(2 * (9 * 16 + 256 + 32))
    expect(count('dil_conv_5x5', 16)).toBe(25 * 16 + 256 + 32)
    expect(count('attention', 16)).toBe(4 * 256)
    const noAffine = createOp(
      'sep_conv_3x3',
      { cIn: 8, cOut: 8, stride: 1, affine: false },
      initContext(1),
    )
    expect(noAffine.paramCount()).toBe(2 * (9 * 8 + 64))
    noAffine.dispose()
  })

  it('counts multiply-accumulates', () => {
    const op = createOp('nor_conv_3x3', { cIn: 16, cOut: 16, stride: 1 }, initContext(1))
    const macs = countMacs(() => tf.tidy(() => void op.apply(tf.zeros([1, 32, 32, 16]))))
    expect(macs).toBe(9 * 16 * 16 * 32 * 32)
    op.dispose()
  })

  it('batch norm keeps running statistics in training mode and uses them in eval mode', () => {
    const bn = new BatchNorm(2)
    tf.tidy(() => {
      const x = tf.tensor4d([1, 10, 3, 20, 5, 30, 7, 40], [1, 2, 2, 2])
      bn.apply(x, true)
      const mean = bn.runningMean.dataSync()
      expect(mean[0]).toBeCloseTo(0.4, 5)
      expect(mean[1]).toBeCloseTo(2.5, 5)
      const yTrain = bn.apply(x, true).dataSync()
      expect(Math.abs(yTrain[0]! + 1.3416)).toBeLessThan(1e-3)
      const yEval = bn.apply(x, false).dataSync()
      expect(yEval[0]).not.toBeCloseTo(yTrain[0]!, 2)
    })
    bn.dispose()
  })

  it('batch norm gradients match differentiating through the batch moments', () => {
    for (const affine of [true, false]) {
      const bn = new BatchNorm(3, { affine })
      const x = tf.tensor4d(values(2 * 4 * 5 * 3, 11), [2, 4, 5, 3])
      const w = tf.tensor4d(values(2 * 4 * 5 * 3, 12), [2, 4, 5, 3])
      if (bn.gamma) bn.gamma.assign(tf.tensor1d([0.5, -1.5, 2]))
      if (bn.beta) bn.beta.assign(tf.tensor1d([0.1, 0.2, -0.3]))
      const params = [bn.gamma, bn.beta].filter((v): v is tf.Variable => v !== null)
      // reference: y = γ (x − μ) / √(σ² + ε) + β with μ, σ² from tf.moments, autodiffed
      const reference = (input: tf.Tensor) => {
        const { mean, variance } = tf.moments(input, [0, 1, 2])
        let y = tf.mul(tf.sub(input, mean), tf.rsqrt(tf.add(variance, bn.epsilon)))
        if (bn.gamma && bn.beta) y = tf.add(tf.mul(y, bn.gamma), bn.beta)
        return tf.sum(tf.mul(y, w)) as tf.Scalar
      }
      const ours = (input: tf.Tensor) =>
        tf.sum(tf.mul(bn.apply(input as tf.Tensor4D, true), w)) as tf.Scalar
      const [gxRef, gxOurs] = [reference, ours].map((f) => tf.grad(f)(x).dataSync())
      expect(maxRelError(gxOurs!, gxRef!)).toBeLessThan(1e-4)
      if (affine) {
        const ref = tf.variableGrads(() => reference(x), params).grads
        const got = tf.variableGrads(() => ours(x), params).grads
        for (const v of params) {
          expect(maxRelError(got[v.name]!.dataSync(), ref[v.name]!.dataSync())).toBeLessThan(1e-4)
        }
      }
      tf.dispose([x, w])
      bn.dispose()
    }
  })

  it('recalibration makes the running statistics the average of the batch statistics', () => {
    const op = createOp('nor_conv_3x3', { cIn: 2, cOut: 3, stride: 1 }, initContext(3))
    const bns = batchNorms(op)
    expect(bns).toHaveLength(1)
    const bn = bns[0]!
    const xs = [0, 1, 2].map((k) => tf.tensor4d(values(2 * 4 * 4 * 2, 20 + k), [2, 4, 4, 2]))
    // skew the statistics first: recalibration must forget them
    tf.tidy(() => void op.apply(tf.mul(xs[0]!, 10) as tf.Tensor4D, true))
    const n = recalibrateBatchNorms(bns, xs, (x) => void op.apply(x, true))
    expect(n).toBe(3)
    expect(bn.momentum).toBe(0.1)
    expect(bn.batchesTracked).toBe(3)
    // expected: mean over batches of the per-batch mean and unbiased variance of the BN input
    const count = 2 * 4 * 4
    const stats = xs.map((x) =>
      tf.tidy(() => {
        const pre = (op as unknown as { conv: { apply(t: tf.Tensor4D): tf.Tensor4D } }).conv.apply(
          tf.relu(x),
        )
        const { mean, variance } = tf.moments(pre, [0, 1, 2])
        return [mean.dataSync(), tf.mul(variance, count / (count - 1)).dataSync()] as const
      }),
    )
    const avg = (i: 0 | 1, c: number) => stats.reduce((s, st) => s + st[i][c]!, 0) / stats.length
    const rm = bn.runningMean.dataSync()
    const rv = bn.runningVar.dataSync()
    for (let c = 0; c < 3; c++) {
      expect(rm[c]).toBeCloseTo(avg(0, c), 5)
      expect(rv[c]).toBeCloseTo(avg(1, c), 5)
    }
    tf.dispose(xs)
    op.dispose()
  })

  it('unknown ops fail with E_UNKNOWN_OP', () => {
    let err: unknown
    try {
      createOp('conv_9x9', { cIn: 1, cOut: 1, stride: 1 }, initContext(1))
    } catch (e) {
      err = e
    }
    expect(isNaskitError(err, 'E_UNKNOWN_OP')).toBe(true)
  })
})
