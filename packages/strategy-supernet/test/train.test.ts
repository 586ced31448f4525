import { type Arch, nb201FromString, nb201Space, Rng } from '@naskit/core'
import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { createSupernet, Nb201Supernet, SupernetTrainer } from '../src/index'
import { maxAbsDiff, mnistSubset, RES, RESIZE, snapshot, useBackend } from './helpers'

const space = nb201Space()
const tiny = (seed = 1) =>
  new Nb201Supernet(space, { channels: 4, cellsPerStage: 1, inputShape: [RES, RES, 1], seed })
const ARCH = nb201FromString(
  '|nor_conv_3x3~0|+|nor_conv_1x1~0|none~1|+|skip_connect~0|avg_pool_3x3~1|nor_conv_3x3~2|',
)

function batch(seed: number): { x: tf.Tensor4D; y: tf.Tensor1D } {
  return {
    x: tf.randomNormal([16, RES, RES, 1], 0, 1, 'float32', seed) as tf.Tensor4D,
    y: tf.tensor1d(
      Array.from({ length: 16 }, (_, i) => (i * 7 + seed) % 10),
      'int32',
    ),
  }
}

/** Names of the edge-op variables an architecture does not select. */
function offPath(sn: Nb201Supernet, arch: Arch): string[] {
  const nodes = (arch.cell as { nodes: Array<{ inputs: number[]; ops: string[] }> }).nodes
  return sn
    .namedVariables()
    .filter((v) => v.trainable)
    .map((v) => v.name)
    .filter((name) => {
      const m = /node(\d)\/edge(\d)_[a-z_0-9]+\/([a-z_0-9]+)\//.exec(name)
      if (!m) return false
      const n = nodes[Number(m[1]) - 1]!
      return n.ops[n.inputs.indexOf(Number(m[2]))] !== m[3]
    })
}

describe('SupernetTrainer', () => {
  beforeAll(useBackend)
  const data = mnistSubset(128, 64)

  it('updates only the sampled path', () => {
    const sn = tiny()
    const tr = new SupernetTrainer(sn, data.train, { epochs: 1, batchSize: 16 })
    const before = snapshot(sn.namedVariables())
    const b = batch(1)
    try {
      tr.trainStep(b.x, b.y, [ARCH])
      const after = snapshot(sn.namedVariables())
      const off = new Set(offPath(sn, ARCH))
      expect(off.size).toBeGreaterThan(0)
      let changed = 0
      for (const [name, v] of after) {
        const d = maxAbsDiff(v, before.get(name)!)
        if (off.has(name)) expect(d, name).toBe(0)
        else if (d > 0) changed++
      }
      expect(changed).toBeGreaterThan(10)
    } finally {
      b.x.dispose()
      b.y.dispose()
      tr.dispose()
      sn.dispose()
    }
  })

  it('leaves the ops of nodes that do not reach the output alone, momentum included', () => {
    const sn = tiny()
    const tr = new SupernetTrainer(sn, data.train, { epochs: 1, batchSize: 16 })
    // the same ops into nodes 1 and 2, first live (they build momentum), then dead
    const live = nb201FromString(
      '|nor_conv_3x3~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|skip_connect~0|skip_connect~1|skip_connect~2|',
    )
    const dead = nb201FromString(
      '|nor_conv_3x3~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|skip_connect~0|none~1|none~2|',
    )
    const b = batch(3)
    try {
      tr.trainStep(b.x, b.y, [live])
      const inner = sn.namedVariables().filter((v) => /node[12]\//.test(v.name))
      const before = snapshot(inner)
      tr.trainStep(b.x, b.y, [live])
      let moved = 0
      for (const [name, v] of snapshot(inner)) if (maxAbsDiff(v, before.get(name)!) > 0) moved++
      expect(moved).toBeGreaterThan(0)
      const mid = snapshot(inner)
      tr.trainStep(b.x, b.y, [dead])
      for (const [name, v] of snapshot(inner)) expect(maxAbsDiff(v, mid.get(name)!), name).toBe(0)
    } finally {
      b.x.dispose()
      b.y.dispose()
      tr.dispose()
      sn.dispose()
    }
  })

  it('with fair sampling, one step trains every op of the edges that every path uses', () => {
    const sn = tiny()
    const tr = new SupernetTrainer(sn, data.train, { epochs: 1, batchSize: 16, sampler: 'fair' })
    const before = snapshot(sn.namedVariables())
    const b = batch(2)
    try {
      const archs = Array.from({ length: tr.sampler.group }, () => tr.sampler.next())
      tr.trainStep(b.x, b.y, archs)
      const after = snapshot(sn.namedVariables())
      // the edges into the output node are on every path: each of their ops was trained
      const outputEdges = sn.namedVariables().filter((v) => v.trainable && /node3\//.test(v.name))
      expect(outputEdges.length).toBeGreaterThan(0)
      for (const v of outputEdges)
        expect(maxAbsDiff(after.get(v.name)!, before.get(v.name)!), v.name).toBeGreaterThan(0)
    } finally {
      b.x.dispose()
      b.y.dispose()
      tr.dispose()
      sn.dispose()
    }
  })

  it('releases every tensor it creates in a step', () => {
    const sn = tiny()
    const tr = new SupernetTrainer(sn, data.train, { epochs: 1, batchSize: 16 })
    const b = batch(3)
    try {
      tr.trainStep(b.x, b.y, [ARCH]) // creates the momentum buffers of the path
      const n = tf.memory().numTensors
      const bytes = tf.memory().numBytes
      for (let i = 0; i < 3; i++) tr.trainStep(b.x, b.y, [ARCH])
      expect(tf.memory().numTensors).toBe(n)
      expect(tf.memory().numBytes).toBe(bytes)
    } finally {
      b.x.dispose()
      b.y.dispose()
      tr.dispose()
      sn.dispose()
    }
  })

  it('trains whole epochs without leaking and reports what it did', async () => {
    const sn = tiny()
    const epochs: number[] = []
    const rates: number[] = []
    const tr = new SupernetTrainer(sn, data.train, {
      epochs: 2,
      batchSize: 32,
      resize: RESIZE,
      seed: 2,
      onProgress: (p) => {
        rates.push(p.learningRate)
      },
      onEpoch: (i) => {
        epochs.push(i.epoch)
      },
    })
    const before = tf.memory().numTensors
    try {
      const s = await tr.train()
      expect(epochs).toEqual([1, 2])
      // the cosine starts at the rate and ends just above its default floor, a fifth of it
      expect(rates[0]).toBeCloseTo(0.05, 6)
      expect(rates.every((r, i) => i === 0 || r <= rates[i - 1]!)).toBe(true)
      expect(rates.at(-1)!).toBeGreaterThan(0.01)
      expect(rates.at(-1)!).toBeLessThan(0.015)
      expect(s).toMatchObject({ epochs: 2, steps: 8, paths: 8, images: 256, stoppedEarly: false })
      expect(Number.isFinite(s.finalLoss)).toBe(true)
    } finally {
      tr.dispose()
    }
    expect(tf.memory().numTensors).toBe(before)
    sn.dispose()
  })

  it('resumes from a checkpoint to the same weights as an uninterrupted run', async () => {
    const opts = { epochs: 2, batchSize: 32, resize: RESIZE, seed: 4 }
    const a = tiny(2)
    const ta = new SupernetTrainer(a, data.train, opts)
    await ta.train()
    const full = snapshot(a.namedVariables())
    ta.dispose()
    a.dispose()

    // the same run, interrupted after its first epoch
    const b = tiny(2)
    let cp: ReturnType<SupernetTrainer['checkpoint']> | null = null
    const ac = new AbortController()
    const tb: SupernetTrainer = new SupernetTrainer(b, data.train, {
      ...opts,
      signal: ac.signal,
      onEpoch: () => {
        cp = tb.checkpoint()
        ac.abort()
      },
    })
    await expect(tb.train()).rejects.toMatchObject({ code: 'E_ABORTED' })
    tb.dispose()
    b.dispose()
    expect(cp).not.toBeNull()
    const saved = cp as unknown as ReturnType<SupernetTrainer['checkpoint']>

    const c = tiny(7) // other initial weights: all must come from the checkpoint
    const tc = new SupernetTrainer(c, data.train, opts)
    tc.restore({ state: JSON.parse(JSON.stringify(saved.state)), blobs: saved.blobs })
    expect(tc.epoch).toBe(1)
    await tc.train()
    const resumed = snapshot(c.namedVariables())
    tc.dispose()
    c.dispose()
    for (const [name, v] of full) expect(maxAbsDiff(v, resumed.get(name)!), name).toBeLessThan(1e-6)
  })

  it('averages the weights of the last epochs (SWA) and resumes the average from a checkpoint', async () => {
    const opts = { epochs: 3, batchSize: 32, resize: RESIZE, seed: 5 }
    // the plain run, its trainable weights after every epoch
    const a = tiny(3)
    const trainable = () => a.namedVariables().filter((v) => v.trainable)
    const perEpoch: Array<Map<string, Float32Array>> = []
    const ta = new SupernetTrainer(a, data.train, {
      ...opts,
      onEpoch: () => {
        perEpoch.push(snapshot(trainable()))
      },
    })
    await ta.train()
    ta.dispose()
    a.dispose()

    // the same run averaging epochs 2 and 3: its final weights are their mean
    const b = tiny(3)
    const tb = new SupernetTrainer(b, data.train, { ...opts, averageFrom: 2 })
    await tb.train()
    expect(tb.averagedEpochs).toBe(2)
    const averaged = snapshot(b.namedVariables().filter((v) => v.trainable))
    tb.dispose()
    b.dispose()
    let moved = 0
    for (const [name, w] of averaged) {
      const w2 = perEpoch[1]!.get(name)!
      const w3 = perEpoch[2]!.get(name)!
      const mean = w2.map((v, i) => (v + w3[i]!) / 2)
      expect(maxAbsDiff(w, mean), name).toBeLessThan(1e-5)
      if (maxAbsDiff(w2, w3) > 1e-4) moved++
    }
    expect(moved).toBeGreaterThan(10) // the average differs from the last weights

    // interrupted after epoch 2 (one epoch in the average), resumed on other weights
    const c = tiny(3)
    let cp: ReturnType<SupernetTrainer['checkpoint']> | null = null
    const ac = new AbortController()
    const tc: SupernetTrainer = new SupernetTrainer(c, data.train, {
      ...opts,
      averageFrom: 2,
      signal: ac.signal,
      onEpoch: ({ epoch }) => {
        if (epoch < 2) return
        cp = tc.checkpoint()
        ac.abort()
      },
    })
    await expect(tc.train()).rejects.toMatchObject({ code: 'E_ABORTED' })
    tc.dispose()
    c.dispose()
    const saved = cp as unknown as ReturnType<SupernetTrainer['checkpoint']>
    const d = tiny(8)
    const td = new SupernetTrainer(d, data.train, { ...opts, averageFrom: 2 })
    td.restore({ state: JSON.parse(JSON.stringify(saved.state)), blobs: saved.blobs })
    expect(td.averagedEpochs).toBe(1)
    await td.train()
    const resumed = snapshot(d.namedVariables().filter((v) => v.trainable))
    td.dispose()
    d.dispose()
    for (const [name, w] of averaged)
      expect(maxAbsDiff(w, resumed.get(name)!), name).toBeLessThan(1e-5)
  })

  it('refuses an averaging start outside the run or before a few-shot split', () => {
    const sn = tiny()
    try {
      for (const averageFrom of [0, 4, 1.5]) {
        expect(
          () => new SupernetTrainer(sn, data.train, { epochs: 3, batchSize: 16, averageFrom }),
        ).toThrow(expect.objectContaining({ code: 'E_BAD_OPTIONS' }))
      }
    } finally {
      sn.dispose()
    }
    const few = createSupernet(space, {
      inputShape: [RES, RES, 1],
      numClasses: 10,
      nb201: { channels: 4, cellsPerStage: 1 },
      fewShot: { decision: 'cell.3.0.op', splitEpoch: 2 },
    })
    try {
      expect(
        () => new SupernetTrainer(few, data.train, { epochs: 4, batchSize: 16, averageFrom: 2 }),
      ).toThrow(/after the few-shot split/)
      expect(
        () => new SupernetTrainer(few, data.train, { epochs: 4, batchSize: 16, averageFrom: 3 }),
      ).not.toThrow()
    } finally {
      few.dispose()
    }
  })

  it('stops at the time budget and on abort', async () => {
    const sn = tiny()
    try {
      const s = await new SupernetTrainer(sn, data.train, {
        epochs: 3,
        batchSize: 16,
        resize: RESIZE,
        timeMs: 0,
      }).train()
      expect(s.stoppedEarly).toBe(true)
      expect(s.steps).toBe(0)
      const ac = new AbortController()
      ac.abort()
      await expect(
        new SupernetTrainer(sn, data.train, {
          epochs: 1,
          batchSize: 16,
          resize: RESIZE,
          signal: ac.signal,
        }).train(),
      ).rejects.toMatchObject({ code: 'E_ABORTED' })
    } finally {
      sn.dispose()
    }
  })

  it('refuses data smaller than one batch and a floor above the learning rate', () => {
    const sn = tiny()
    try {
      expect(() => new SupernetTrainer(sn, data.train, { epochs: 1, batchSize: 1000 })).toThrow(
        /fewer than one batch/,
      )
      expect(
        () =>
          new SupernetTrainer(sn, data.train, {
            epochs: 1,
            learningRate: 0.01,
            minLearningRate: 0.02,
          }),
      ).toThrow(expect.objectContaining({ code: 'E_BAD_OPTIONS' }))
    } finally {
      sn.dispose()
    }
  })
})

void Rng
