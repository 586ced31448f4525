import { chainSpace, dartsSpace, nasnetSpace, Rng } from '@naskit/core'
import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { ChainSupernet, createSupernet, NasnetSupernet } from '../src/index'
import { buildNetwork, chainChannels } from '../src/trainer'
import { maxAbsDiff, useBackend } from './helpers'

const chain = chainSpace({
  resolution: { low: 8, high: 12, step: 4 },
  depth: { min: 2, max: 4 },
  widthMultiplier: { low: 0.5, high: 1.5, step: 0.5 },
})
const nasnet = nasnetSpace({ channels: { low: 4, high: 16, step: 4 }, repeats: { min: 2, max: 4 } })

/** Gradient of the sum of the logits with respect to one variable. */
function gradOf(
  net: { forward(x: tf.Tensor4D, a: object, t: boolean): tf.Tensor2D },
  v: tf.Variable,
  arch: object,
  x: tf.Tensor4D,
): { shape: number[]; data: Float32Array } {
  return tf.tidy(() => {
    const { grads } = tf.variableGrads(
      () => tf.sum(net.forward(x, arch as never, true)) as tf.Scalar,
      [v],
    )
    const g = grads[v.name]!
    return { shape: g.shape, data: g.dataSync() as Float32Array }
  })
}

/** Largest |value| of a [k, k, cIn, cOut] gradient over output channels ≥ `from`. */
function maxBeyond(g: { shape: number[]; data: Float32Array }, from: number): number {
  const cOut = g.shape[3]!
  let m = 0
  g.data.forEach((v, i) => {
    if (i % cOut >= from) m = Math.max(m, Math.abs(v))
  })
  return m
}

describe('ChainSupernet', () => {
  beforeAll(useBackend)

  it('runs every depth, width and resolution of the space', () => {
    const sn = createSupernet(chain, { inputShape: [12, 12, 1], seed: 1 }) as ChainSupernet
    const x = tf.randomNormal([2, 12, 12, 1]) as tf.Tensor4D
    const rng = new Rng(2)
    try {
      expect(sn.layers).toHaveLength(4)
      expect(sn.maxChannels).toBe(chainChannels(16, 1.5))
      for (let i = 0; i < 6; i++) {
        const arch = chain.sample(rng)
        const shape = tf.tidy(() => sn.forward(x, arch, true).shape)
        expect(shape).toEqual([2, 10])
      }
    } finally {
      x.dispose()
      sn.dispose()
    }
  })

  it('shares the widest weights: a narrower width trains only the first channels', () => {
    const sn = new ChainSupernet(chain, { inputShape: [8, 8, 1], seed: 1 })
    const x = tf.randomNormal([2, 8, 8, 1], 0, 1, 'float32', 4) as tf.Tensor4D
    const layers = [{ op: 'conv_3x3' }, { op: 'conv_3x3' }]
    const stemW = sn.stem.conv.weight
    try {
      const narrow = gradOf(sn, stemW, { layers, width_multiplier: 0.5, resolution: 8 }, x)
      const wide = gradOf(sn, stemW, { layers, width_multiplier: 1.5, resolution: 8 }, x)
      const active = chainChannels(16, 0.5)
      expect(narrow.shape).toEqual(wide.shape)
      expect(maxBeyond(narrow, active)).toBe(0)
      expect(maxBeyond(wide, active)).toBeGreaterThan(0)
      expect(maxBeyond({ ...narrow, shape: [1, 1, 1, active] }, 0)).toBeGreaterThan(0)
    } finally {
      x.dispose()
      sn.dispose()
    }
  })

  it('refuses spaces it has no supernet for', () => {
    expect(() => createSupernet(dartsSpace())).toThrow(/no supernet/)
  })
})

describe('NasnetSupernet', () => {
  beforeAll(useBackend)

  it('runs every repeat count, kernel, channel count and skip of the space', () => {
    const sn = createSupernet(nasnet, { inputShape: [8, 8, 1], seed: 1 }) as NasnetSupernet
    const x = tf.randomNormal([2, 8, 8, 1]) as tf.Tensor4D
    const rng = new Rng(3)
    try {
      expect(sn.blocks).toHaveLength(4)
      expect(sn.slots()[0]!.ops).toEqual(['conv_3x3', 'conv_5x5', 'conv_7x7'])
      for (let i = 0; i < 6; i++) {
        const shape = tf.tidy(() => sn.forward(x, nasnet.sample(rng), true).shape)
        expect(shape).toEqual([2, 10])
      }
    } finally {
      x.dispose()
      sn.dispose()
    }
  })

  it('shares the widest block: fewer channels use a slice of the same weights', () => {
    const sn = new NasnetSupernet(nasnet, { inputShape: [8, 8, 1], seed: 1 })
    const x = tf.randomNormal([2, 8, 8, 1], 0, 1, 'float32', 5) as tf.Tensor4D
    const w = (sn.blocks[0]!.convs.get(3) as unknown as { conv: { weight: tf.Variable } }).conv
      .weight
    const arch = (c: number) => ({
      blocks: [
        { kernel: 3, channels: c, skip: false },
        { kernel: 5, channels: c, skip: true },
      ],
    })
    try {
      const narrow = gradOf(sn, w, arch(8), x)
      const wide = gradOf(sn, w, arch(16), x)
      expect(maxBeyond(narrow, 8)).toBe(0)
      expect(maxBeyond(wide, 8)).toBeGreaterThan(0)
      const w7 = (sn.blocks[0]!.convs.get(7) as unknown as { conv: { weight: tf.Variable } }).conv
        .weight
      const touched = tf.tidy(() => {
        const { grads } = tf.variableGrads(
          () => tf.sum(sn.forward(x, arch(8), true)) as tf.Scalar,
          [w7, w],
        )
        return Object.keys(grads)
      })
      expect(touched).toEqual([w.name])
    } finally {
      x.dispose()
      sn.dispose()
    }
  })
})

/** Copies the supernet's variables into a stand-alone network through a name mapping. */
function copyInto(
  net: { namedVariables(): Array<{ name: string; variable: tf.Variable }> },
  shared: Map<string, tf.Variable>,
  map: (name: string) => string,
): void {
  for (const v of net.namedVariables()) {
    const src = shared.get(map(v.name))
    expect(src, map(v.name)).toBeDefined()
    v.variable.assign(src!)
  }
}

describe('stand-alone equivalence at the widest setting', () => {
  beforeAll(useBackend)

  it("chain: the supernet's path is the trainer's chain network", () => {
    const sn = new ChainSupernet(chain, { inputShape: [8, 8, 1], seed: 1 })
    const arch = {
      layers: [
        { op: 'conv_3x3' },
        { op: 'max_pool_3x3' },
        { op: 'sep_conv_3x3' },
        { op: 'conv_5x5' },
      ],
      width_multiplier: 1.5,
      resolution: 8,
    }
    const net = buildNetwork(arch, sn.buildOptions(), 'chain')
    const x = tf.randomNormal([2, 8, 8, 1], 0, 1, 'float32', 6) as tf.Tensor4D
    try {
      copyInto(net, new Map(sn.namedVariables().map((v) => [v.name, v.variable])), (n) =>
        n.replace(/^layer(\d+)_([a-z_0-9]+)\//, 'layer$1/$2/'),
      )
      const a = tf.tidy(() => sn.forward(x, arch, false).dataSync())
      const b = tf.tidy(() => net.apply(x, false).dataSync())
      expect(maxAbsDiff(a, b)).toBeLessThan(1e-4)
    } finally {
      x.dispose()
      net.dispose()
      sn.dispose()
    }
  })

  it("NASNet: the supernet's path is the trainer's NASNet network", () => {
    const sn = new NasnetSupernet(nasnet, { inputShape: [8, 8, 1], seed: 1 })
    const arch = {
      blocks: [
        { kernel: 3, channels: 16, skip: true },
        { kernel: 7, channels: 16, skip: false },
        { kernel: 5, channels: 16, skip: true },
      ],
    }
    const net = buildNetwork(arch, sn.buildOptions(), 'nasnet')
    const x = tf.randomNormal([2, 8, 8, 1], 0, 1, 'float32', 7) as tf.Tensor4D
    try {
      copyInto(net, new Map(sn.namedVariables().map((v) => [v.name, v.variable])), (n) => {
        const m = /^block(\d+)\/conv\/(.*)$/.exec(n)
        if (!m) return n
        const k = arch.blocks[Number(m[1])]!.kernel
        return `block${m[1]}/conv_${k}x${k}/${m[2]}`
      })
      const a = tf.tidy(() => sn.forward(x, arch, false).dataSync())
      const b = tf.tidy(() => net.apply(x, false).dataSync())
      expect(maxAbsDiff(a, b)).toBeLessThan(1e-4)
    } finally {
      x.dispose()
      net.dispose()
      sn.dispose()
    }
  })
})
