import { nb201FromString, nb201Space } from '@naskit/core'
import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  createSupernet,
  type FewShotSupernet,
  SupernetTrainer,
  splittableDecisions,
  supernetEvaluator,
} from '../src/index'
import { maxAbsDiff, mnistSubset, RES, RESIZE, snapshot, useBackend } from './helpers'

const space = nb201Space()
const DECISION = 'cell.3.0.op'
const fewShot = (splitEpoch = 1, seed = 1) =>
  createSupernet(space, {
    inputShape: [RES, RES, 1],
    numClasses: 10,
    seed,
    nb201: { channels: 4, cellsPerStage: 1 },
    fewShot: { decision: DECISION, splitEpoch },
  }) as FewShotSupernet
// the same cell except the op of edge 0→3 (none, then nor_conv_3x3)
const A = nb201FromString(
  '|nor_conv_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|none~0|avg_pool_3x3~1|nor_conv_3x3~2|',
)
const B = nb201FromString(
  '|nor_conv_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_3x3~0|avg_pool_3x3~1|nor_conv_3x3~2|',
)
const x = () => tf.randomNormal([8, RES, RES, 1], 0, 1, 'float32', 3) as tf.Tensor4D
const shotVars = (sn: FewShotSupernet, k: number) =>
  snapshot(sn.namedVariables().filter((v) => v.name.startsWith(`shot${k}/`)))

describe('FewShotSupernet', () => {
  beforeAll(useBackend)
  const data = mnistSubset(128, 64)

  it('names the decisions it can split on when given another', () => {
    expect(splittableDecisions(space).get(DECISION)).toBe(5)
    expect(() => fewShot(1).dispose()).not.toThrow()
    expect(() =>
      createSupernet(space, {
        inputShape: [RES, RES, 1],
        nb201: { channels: 4, cellsPerStage: 1 },
        fewShot: { decision: 'cell.9.0.op', splitEpoch: 1 },
      }),
    ).toThrow(
      expect.objectContaining({
        code: 'E_BAD_OPTIONS',
        message: expect.stringMatching(/cell\.3\.0\.op/),
      }),
    )
  })

  it('runs every architecture on the shared copy until the split, then on its own copy', () => {
    const sn = fewShot()
    const input = x()
    try {
      expect(sn.shots).toHaveLength(5)
      expect(sn.shotOf(A)).toBe(0)
      expect(sn.shotOf(B)).toBe(0)
      const before = tf.tidy(() => sn.forward(input, B).arraySync())
      sn.splitNow()
      expect(sn.isSplit).toBe(true)
      expect(sn.shotOf(A)).toBe(0) // none
      expect(sn.shotOf(B)).toBe(3) // nor_conv_3x3
      // the copies start as the shared weights: same logits on the copy of B's choice
      const after = tf.tidy(() => sn.forward(input, B).arraySync())
      expect(maxAbsDiff(after.flat(), before.flat())).toBeLessThan(1e-5)
    } finally {
      input.dispose()
      sn.dispose()
    }
  })

  it('after the split, a step trains only the copy of the architecture’s choice', () => {
    const sn = fewShot(0)
    const tr = new SupernetTrainer(sn, data.train, { epochs: 1, batchSize: 16 })
    const input = x()
    const y = tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 7], 'int32')
    try {
      sn.splitNow()
      const before = [0, 1, 2, 3, 4].map((k) => shotVars(sn, k))
      tr.trainStep(input, y, [B])
      for (let k = 0; k < 5; k++) {
        const after = shotVars(sn, k)
        let changed = 0
        for (const [name, v] of after) if (maxAbsDiff(v, before[k]!.get(name)!) > 0) changed++
        if (k === 3) expect(changed).toBeGreaterThan(10)
        else expect(changed, `shot ${k}`).toBe(0)
      }
    } finally {
      tr.dispose()
      input.dispose()
      y.dispose()
      sn.dispose()
    }
  })

  it('splits at its epoch and resumes across the split to the same weights', async () => {
    const opts = { epochs: 3, batchSize: 32, resize: RESIZE, seed: 4 }
    const a = fewShot(1, 2)
    const ta = new SupernetTrainer(a, data.train, opts)
    await ta.train()
    expect(a.isSplit).toBe(true)
    const full = snapshot(a.namedVariables())
    ta.dispose()
    a.dispose()

    // interrupted after epoch 2 (past the split), resumed on other initial weights
    const b = fewShot(1, 2)
    let cp: ReturnType<SupernetTrainer['checkpoint']> | null = null
    const ac = new AbortController()
    const tb: SupernetTrainer = new SupernetTrainer(b, data.train, {
      ...opts,
      signal: ac.signal,
      onEpoch: (i) => {
        if (i.epoch === 2) {
          cp = tb.checkpoint()
          ac.abort()
        }
      },
    })
    await expect(tb.train()).rejects.toMatchObject({ code: 'E_ABORTED' })
    tb.dispose()
    b.dispose()
    const saved = cp as unknown as ReturnType<SupernetTrainer['checkpoint']>
    expect((saved.state as { split: boolean }).split).toBe(true)

    const c = fewShot(1, 9)
    const tc = new SupernetTrainer(c, data.train, opts)
    tc.restore({ state: JSON.parse(JSON.stringify(saved.state)), blobs: saved.blobs })
    expect(c.isSplit).toBe(true)
    await tc.train()
    const resumed = snapshot(c.namedVariables())
    tc.dispose()
    c.dispose()
    for (const [name, v] of full) expect(maxAbsDiff(v, resumed.get(name)!), name).toBeLessThan(1e-6)
  })

  it('anneals to the floor before the split and runs a second, lower cycle after it', () => {
    const sn = fewShot(2)
    const tr = new SupernetTrainer(sn, data.train, { epochs: 4, batchSize: 32 })
    try {
      expect(tr.stepsPerEpoch).toBe(4)
      expect(tr.learningRateAt(0)).toBeCloseTo(0.05, 6)
      expect(tr.learningRateAt(7)).toBeLessThan(0.015) // end of the shared cycle
      expect(tr.learningRateAt(8)).toBeCloseTo(0.02, 6) // 0.4 × 0.05 at the split
      expect(tr.learningRateAt(15)).toBeLessThan(0.012)
      expect(tr.learningRateAt(15)).toBeGreaterThanOrEqual(0.01)
    } finally {
      tr.dispose()
      sn.dispose()
    }
  })

  it('evaluates candidates on their copies without leaking tensors', async () => {
    const sn = fewShot(0)
    const tr = new SupernetTrainer(sn, data.train, { epochs: 1, batchSize: 32, resize: RESIZE })
    await tr.train()
    tr.dispose()
    const ev = supernetEvaluator(sn, {
      calibration: data.train,
      validation: data.validation,
      calibrationBatches: 2,
      batchSize: 32,
      resize: RESIZE,
    })
    const before = tf.memory().numTensors
    try {
      for (const arch of [A, B]) {
        const m = ev.evaluate(arch)
        expect(m.objective).toBeGreaterThanOrEqual(0)
        expect(m.objective).toBeLessThanOrEqual(1)
      }
      expect(tf.memory().numTensors).toBe(before)
    } finally {
      ev.dispose()
      sn.dispose()
    }
  })
})
