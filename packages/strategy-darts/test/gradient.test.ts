import { dartsSpace, nb201Space, type SearchSpace } from '@naskit/core'
import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { unrolledArchGradients } from '../src/bilevel.js'
import { DartsSupernet } from '../src/supernet.js'
import { MomentumSgd } from '../src/trainer.js'
import { randomBatch, useBackend } from './helpers.js'

beforeAll(async () => {
  await useBackend('cpu')
})

function tinyNet(space: SearchSpace, seed = 3) {
  const darts = space.name === 'darts'
  const net = new DartsSupernet(space, {
    channels: darts ? 2 : 4,
    layers: darts ? 3 : 1,
    inputShape: [8, 8, 1],
    seed,
  })
  // move away from the uniform start so that the softmax has some shape
  let s = seed
  for (const v of net.archVariables()) {
    const vals = Float32Array.from({ length: v.size }, () => {
      s = (s * 16807) % 2147483647
      return (s / 2147483647) * 2 - 1
    })
    v.assign(tf.tensor(vals, v.shape))
  }
  return net
}

function ce(net: DartsSupernet, b: { x: tf.Tensor4D; y: tf.Tensor1D }): tf.Scalar {
  return tf.losses.softmaxCrossEntropy(tf.oneHot(b.y, 10), net.forward(b.x, true)) as tf.Scalar
}

/** Loss at alpha + h·d for each architecture variable, restoring alpha afterwards. */
function lossAt(net: DartsSupernet, f: () => tf.Scalar, dirs: tf.Tensor[], h: number): number {
  const vars = net.archVariables()
  const saved = vars.map((v) => tf.clone(v))
  try {
    tf.tidy(() => {
      vars.forEach((v, i) => {
        v.assign(tf.add(saved[i]!, tf.mul(dirs[i]!, h)))
      })
    })
    return tf.tidy(() => f().dataSync()[0]!)
  } finally {
    tf.tidy(() => {
      vars.forEach((v, i) => {
        v.assign(saved[i]!)
      })
    })
    tf.dispose(saved)
  }
}

function dot(a: tf.Tensor[], b: tf.Tensor[]): number {
  return tf.tidy(() => tf.addN(a.map((x, i) => tf.sum(tf.mul(x, b[i]!)))).dataSync()[0]!)
}

describe('alpha gradient', () => {
  it('matches central finite differences entry by entry on a tiny nb201 supernet', {
    timeout: 120_000,
  }, () => {
    const net = tinyNet(nb201Space())
    const b = randomBatch(8, [8, 8, 1], 1)
    const alpha = net.alphas.normal!
    const { grads } = tf.variableGrads(() => ce(net, b), [alpha])
    const g = grads[alpha.name]!.arraySync() as number[][]
    const h = 1e-3
    let maxG = 0
    for (const row of g) for (const v of row) maxG = Math.max(maxG, Math.abs(v))
    expect(maxG).toBeGreaterThan(1e-4)
    for (let e = 0; e < g.length; e++) {
      for (let k = 0; k < g[e]!.length; k++) {
        const [rows, cols] = alpha.shape as [number, number]
        const dir = tf.tidy(() =>
          tf.oneHot(tf.tensor1d([e * cols + k], 'int32'), rows * cols).reshape([rows, cols]),
        )
        const up = lossAt(net, () => ce(net, b), [dir], h)
        const down = lossAt(net, () => ce(net, b), [dir], -h)
        dir.dispose()
        const fd = (up - down) / (2 * h)
        expect(Math.abs(fd - g[e]![k]!)).toBeLessThan(0.05 * maxG + 2e-5)
      }
    }
    // `none` adds nothing to a mixed op, so its alpha moves only through the softmax
    tf.dispose([b.x, b.y, grads[alpha.name]!])
    net.dispose()
  })

  it('matches the directional derivative for alpha and beta on a tiny darts supernet', {
    timeout: 120_000,
  }, () => {
    const net = tinyNet(dartsSpace(), 5)
    const b = randomBatch(4, [8, 8, 1], 2)
    const vars = net.archVariables()
    expect(vars).toHaveLength(2)
    const { grads } = tf.variableGrads(() => ce(net, b), vars)
    const g = vars.map((v) => grads[v.name]!)
    const norm = Math.sqrt(dot(g, g))
    expect(norm).toBeGreaterThan(1e-4)
    const dirs = g.map((x) => tf.div(x, norm))
    const h = 1e-3
    const fd =
      (lossAt(net, () => ce(net, b), dirs, h) - lossAt(net, () => ce(net, b), dirs, -h)) / (2 * h)
    expect(fd).toBeCloseTo(norm, 2)
    expect(Math.abs(fd - norm) / norm).toBeLessThan(0.03)
    tf.dispose([b.x, b.y, ...g, ...dirs])
    net.dispose()
  })

  it('second order: restores every variable, reduces to first order as ξ → 0, and its correction grows with ξ', {
    timeout: 120_000,
  }, () => {
    const net = tinyNet(nb201Space(), 11)
    const train = randomBatch(8, [8, 8, 1], 3)
    const val = randomBatch(8, [8, 8, 1], 4)
    const sgd = new MomentumSgd(net.weightVariables(), { learningRate: 0.025, momentum: 0.9 })
    const alpha = net.alphas.normal!
    const before = net.network.namedVariables().map((v) => v.variable.dataSync().slice())
    const unrolled = (xi: number) => {
      const { grads, loss } = unrolledArchGradients({
        net,
        sgd,
        xi,
        weightDecay: 3e-4,
        trainLoss: () => ce(net, train),
        valLoss: () => ce(net, val),
      })
      expect(Number.isFinite(loss)).toBe(true)
      const out = Array.from(grads[0]!.dataSync())
      tf.dispose(grads)
      return out
    }
    const g0 = unrolled(0)
    const ga = unrolled(0.01)
    const gb = unrolled(0.02)
    // every network variable (weights and BN statistics) is restored
    net.network.namedVariables().forEach((v, i) => {
      expect(Array.from(v.variable.dataSync())).toEqual(Array.from(before[i]!))
    })
    const { grads } = tf.variableGrads(() => ce(net, val), [alpha])
    const first = Array.from(grads[alpha.name]!.dataSync())
    tf.dispose(grads[alpha.name]!)
    const norm = (v: number[]) => Math.sqrt(v.reduce((a, x) => a + x * x, 0))
    const sub = (a: number[], b: number[]) => a.map((x, i) => x - b[i]!)
    // ξ = 0: the unrolled gradient is the first-order gradient
    expect(norm(sub(g0, first)) / norm(first)).toBeLessThan(1e-4)
    // the correction is real, grows with ξ and keeps its direction
    const da = sub(ga, g0)
    const db = sub(gb, g0)
    expect(norm(da) / norm(first)).toBeGreaterThan(1e-3)
    expect(norm(db)).toBeGreaterThan(norm(da))
    const cos = da.reduce((a, x, i) => a + x * db[i]!, 0) / (norm(da) * norm(db))
    expect(cos).toBeGreaterThan(0.7)
    tf.dispose([train.x, train.y, val.x, val.y])
    sgd.dispose()
    net.dispose()
  })
})
