import { type Arch, nb201FromString, nb201Space, Rng } from '@naskit/core'
import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { createSupernet, Nb201Supernet } from '../src/index'
import { buildNetwork } from '../src/trainer'
import { maxAbsDiff, RES, useBackend } from './helpers'

const space = nb201Space()
const tiny = () =>
  new Nb201Supernet(space, { channels: 4, cellsPerStage: 1, inputShape: [RES, RES, 1], seed: 1 })

/** The op an nb201 arch puts on edge input→node (nodes numbered 1..3). */
function opOf(arch: Arch, node: number, input: number): string {
  const n = (arch.cell as { nodes: Array<{ inputs: number[]; ops: string[] }> }).nodes[node - 1]!
  return n.ops[n.inputs.indexOf(input)]!
}

describe('Nb201Supernet', () => {
  beforeAll(useBackend)

  it('holds one op per candidate on every edge of every cell', () => {
    const sn = tiny()
    try {
      expect(sn.slots()).toHaveLength(6)
      const names = sn.namedVariables().map((v) => v.name)
      for (const op of ['nor_conv_1x1', 'nor_conv_3x3'])
        expect(names.filter((n) => n.includes(`/${op}/conv/weight`))).toHaveLength(6 * 3)
      const viaFactory = createSupernet(space, { nb201: { channels: 4, cellsPerStage: 1 } })
      expect(viaFactory.kind).toBe('nb201')
      viaFactory.dispose()
    } finally {
      sn.dispose()
    }
  })

  it('runs only the selected ops: gradients reach exactly the path of the architecture', () => {
    const sn = tiny()
    const arch = nb201FromString(
      '|nor_conv_3x3~0|+|nor_conv_1x1~0|none~1|+|skip_connect~0|avg_pool_3x3~1|nor_conv_3x3~2|',
    )
    const named = sn.namedVariables().filter((v) => v.trainable)
    const x = tf.randomNormal([4, RES, RES, 1]) as tf.Tensor4D
    const { grads } = tf.variableGrads(
      () => tf.sum(sn.forward(x, arch, true)) as tf.Scalar,
      named.map((v) => v.variable),
    )
    const touched = new Set(
      named.filter((v) => grads[v.variable.name] !== undefined).map((v) => v.name),
    )
    tf.dispose(grads)
    x.dispose()
    try {
      const edgeVar = /node(\d)\/edge(\d)_[a-z_0-9]+\/([a-z_0-9]+)\//
      let pathConvs = 0
      for (const v of named) {
        const m = edgeVar.exec(v.name)
        if (!m) {
          expect(touched.has(v.name), v.name).toBe(true)
          continue
        }
        const selected = opOf(arch, Number(m[1]), Number(m[2])) === m[3]
        expect(touched.has(v.name), v.name).toBe(selected)
        if (selected) pathConvs++
      }
      expect(pathConvs).toBeGreaterThan(0)
    } finally {
      sn.dispose()
    }
  })

  it("computes the trainer's stand-alone network of the architecture with the shared weights", () => {
    const sn = tiny()
    const arch = space.sample(new Rng(5))
    const net = buildNetwork(arch, sn.buildOptions(), 'nb201')
    try {
      const shared = new Map(sn.namedVariables().map((v) => [v.name, v.variable]))
      for (const v of net.namedVariables()) {
        // supernet: net/…/node1/edge0_<placeholder>/<op>/…; stand-alone: …/node1/edge0_<op>/…
        const name = `net/${v.name.replace(/(edge\d)_([a-z_0-9]+)\//, (_, e, op) => `${e}_skip_connect/${op}/`)}`
        const src = shared.get(name)
        expect(src, name).toBeDefined()
        v.variable.assign(src!)
      }
      // move the supernet's BN statistics away from their initial values first
      const x = tf.randomNormal([8, RES, RES, 1], 0, 1, 'float32', 9) as tf.Tensor4D
      tf.tidy(() => void sn.forward(x, arch, true))
      for (const v of net.namedVariables()) {
        const name = `net/${v.name.replace(/(edge\d)_([a-z_0-9]+)\//, (_, e, op) => `${e}_skip_connect/${op}/`)}`
        v.variable.assign(shared.get(name)!)
      }
      const a = tf.tidy(() => sn.forward(x, arch, false).dataSync())
      const b = tf.tidy(() => net.apply(x, false).dataSync())
      x.dispose()
      expect(maxAbsDiff(a, b)).toBeLessThan(1e-4)
    } finally {
      net.dispose()
      sn.dispose()
    }
  })

  it('rejects architectures of another space', () => {
    const sn = tiny()
    const x = tf.zeros([1, RES, RES, 1]) as tf.Tensor4D
    try {
      expect(() => sn.forward(x, { layers: [] }, false)).toThrow(/nb201/)
    } finally {
      x.dispose()
      sn.dispose()
    }
  })
})
