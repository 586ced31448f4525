import { type Arch, nb201FromString, nb201Space, Rng } from '@naskit/core'
import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { createSupernet, Nb201Supernet } from '../src/index'
import { buildNetwork } from '../src/trainer'
import { maxAbsDiff, RES, useBackend } from './helpers'

const space = nb201Space()
/** Nodes 1 and 2 reach the output node only through `none` edges. */
const DEAD = nb201FromString(
  '|nor_conv_3x3~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|skip_connect~0|none~1|none~2|',
)
/** Same ops into nodes 1 and 2, all of them live. */
const LIVE = nb201FromString(
  '|nor_conv_3x3~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|skip_connect~0|skip_connect~1|skip_connect~2|',
)
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

  /** Max |logit difference| between the supernet and the stand-alone net with copied weights. */
  function standaloneGap(arch: Arch): number {
    const sn = tiny()
    const net = buildNetwork(arch, sn.buildOptions(), 'nb201')
    try {
      const shared = new Map(sn.namedVariables().map((v) => [v.name, v.variable]))
      // supernet: net/…/node1/edge0_<placeholder>/<op>/…; stand-alone: …/node1/edge0_<op>/…
      const nameOf = (n: string) =>
        `net/${n.replace(/(edge\d)_([a-z_0-9]+)\//, (_, e, op) => `${e}_skip_connect/${op}/`)}`
      for (const v of net.namedVariables()) {
        const src = shared.get(nameOf(v.name))
        expect(src, nameOf(v.name)).toBeDefined()
        v.variable.assign(src!)
      }
      // move the supernet's BN statistics away from their initial values first
      const x = tf.randomNormal([8, RES, RES, 1], 0, 1, 'float32', 9) as tf.Tensor4D
      tf.tidy(() => void sn.forward(x, arch, true))
      tf.tidy(() => void net.apply(x, true))
      for (const v of net.namedVariables()) {
        // statistics of ops off the path (dead nodes) are not used by either network
        if (!v.trainable && shared.get(nameOf(v.name)) !== undefined)
          v.variable.assign(shared.get(nameOf(v.name))!)
      }
      const a = tf.tidy(() => sn.forward(x, arch, false).dataSync())
      const b = tf.tidy(() => net.apply(x, false).dataSync())
      x.dispose()
      return maxAbsDiff(a, b)
    } finally {
      net.dispose()
      sn.dispose()
    }
  }

  it("computes the trainer's stand-alone network of the architecture with the shared weights", () => {
    expect(standaloneGap(space.sample(new Rng(5)))).toBeLessThan(1e-4)
    expect(standaloneGap(DEAD)).toBeLessThan(1e-4)
  })

  it('skips edges whose node never reaches the cell output', () => {
    const sn = tiny()
    const named = sn.namedVariables().filter((v) => v.trainable)
    const x = tf.randomNormal([4, RES, RES, 1]) as tf.Tensor4D
    const { grads } = tf.variableGrads(
      () => tf.sum(sn.forward(x, DEAD, true)) as tf.Scalar,
      named.map((v) => v.variable),
    )
    const touched = named.filter((v) => grads[v.variable.name] !== undefined).map((v) => v.name)
    tf.dispose(grads)
    x.dispose()
    try {
      // nodes 1 and 2 feed the output only through `none` edges: none of their ops has a gradient
      expect(touched.filter((n) => /node[12]\//.test(n))).toEqual([])
      // the output node's only op is a skip: no edge op has a gradient at all
      expect(touched.filter((n) => /\/edge\d_/.test(n))).toEqual([])
      expect(touched.length).toBeGreaterThan(0)
      // and the dead nodes' ops are not even run: as many tensors as with `none` in their place
      const created = (arch: Arch) =>
        tf.tidy(() => {
          const before = tf.memory().numTensors
          sn.forward(tf.zeros([4, RES, RES, 1]) as tf.Tensor4D, arch, true)
          return tf.memory().numTensors - before
        })
      const empty = nb201FromString('|none~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|')
      expect(created(DEAD)).toBe(created(empty))
      expect(created(LIVE)).toBeGreaterThan(created(DEAD))
    } finally {
      sn.dispose()
    }
  })

  it('drops the learned scale and shift of the cell ops with affine: false, elsewhere keeps them', () => {
    const sn = new Nb201Supernet(space, {
      channels: 4,
      cellsPerStage: 1,
      inputShape: [RES, RES, 1],
      affine: false,
    })
    try {
      const names = sn.namedVariables().map((v) => v.name)
      const cellBn = names.filter((n) => /\/edge\d_[a-z_0-9]+\/.*\/bn\//.test(n))
      expect(cellBn.some((n) => n.endsWith('/moving_mean'))).toBe(true)
      expect(cellBn.filter((n) => /\/(gamma|beta)$/.test(n))).toEqual([])
      expect(names).toContain('net/stem/bn/gamma')
      expect(names.some((n) => /reduce1\/.*\/bn\/gamma$/.test(n))).toBe(true)
    } finally {
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
