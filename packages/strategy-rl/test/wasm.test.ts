import '@tensorflow/tfjs-backend-wasm'
import { createRng, createStrategy, nb201Space } from '@naskit/core'
import { StrategyHarness } from '@naskit/core/testing'
import * as tf from '@tensorflow/tfjs-core'
import { beforeAll, describe, expect, it } from 'vitest'
import { buildVocabulary, Controller, ensureBackend, rlStrategy } from '../src/index'

describe('wasm backend', () => {
  beforeAll(async () => {
    await tf.setBackend('wasm')
    await tf.ready()
  })

  it('trains the controller on wasm', async () => {
    expect(await ensureBackend()).toBe('wasm')
    const space = nb201Space()
    const s = createStrategy(rlStrategy, { space, seed: 3, options: { batchSize: 2 } })
    const h = new StrategyHarness(s, space)
    const before = (s.state() as { params: string[] }).params
    for (let r = 0; r < 4; r++) await h.round(2, { failures: false })
    const state = s.state() as { params: string[]; updates: number }
    expect(state.updates).toBe(4)
    expect(state.params).not.toEqual(before)
    for (const p of await s.ask(3)) expect(space.isValid(p.arch)).toBe(true)
  })

  it('computes the same loss on wasm as the plain-JS sampler', async () => {
    await ensureBackend()
    const space = nb201Space()
    const vocab = buildVocabulary(space)
    const c = new Controller(
      'lstm',
      vocab,
      { temperature: 1.5, tanhConstant: 2.5 },
      { hidden: 8, embed: 8 },
      createRng(1),
      0.5,
    )
    const sample = c.sampler(createRng(2))
    const steps = vocab.groups.map((g) => ({ group: g, index: sample(g) }))
    expect(c.lossAndGradients([{ steps, advantage: 1 }], 0).loss).toBeCloseTo(
      -c.logProbability(steps),
      4,
    )
  })
})
