import '@tensorflow/tfjs-backend-cpu'
import { chainSpace, createRng, dartsSpace, nb201Space, type SearchSpace } from '@naskit/core'
import { describe, expect, it } from 'vitest'
import * as tf from '@tensorflow/tfjs-core'
import {
  Controller,
  type ControllerKind,
  ensureBackend,
  type Episode,
  NEEDED_GRADIENTS,
  registerMissingGradients,
} from '../src/index'
import { buildVocabulary, replay } from '../src/vocabulary'

function episodes(space: SearchSpace, c: Controller, n: number, seed: number): Episode[] {
  const vocab = c.vocab
  const rng = createRng(seed)
  return Array.from({ length: n }, (_, i) => {
    const sample = c.sampler(rng)
    const indices: number[] = []
    space.build((p) => {
      const k = sample(vocab.byName.get(p.group)!)
      indices.push(k)
      return k
    })
    return { steps: replay(space, vocab, indices)!.steps, advantage: (i % 3) - 0.7 }
  })
}

const make = (
  kind: ControllerKind,
  space: SearchSpace,
  transform = { temperature: 1.7, tanhConstant: 2.5 },
) =>
  new Controller(
    kind,
    buildVocabulary(space),
    transform,
    { hidden: 6, embed: 5 },
    createRng(9),
    0.6,
  )

describe('controller', () => {
  it('registers the gradients its loss needs, once, with tfjs-core alone', async () => {
    expect(await ensureBackend()).toBe('cpu')
    for (const kernel of NEEDED_GRADIENTS) expect(tf.getGradient(kernel), kernel).toBeDefined()
    expect(registerMissingGradients()).toEqual([])
  })

  it('computes in tfjs the same log-probabilities as its plain-JS sampler', async () => {
    await ensureBackend()
    for (const kind of ['lstm', 'independent'] as const) {
      for (const space of [nb201Space(), chainSpace(), dartsSpace()]) {
        const c = make(kind, space)
        if (kind === 'independent') {
          const logits = c.params[0]!
          for (let i = 0; i < logits.length; i++) logits[i] = Math.sin(i)
        }
        const eps = episodes(space, c, 5, 1)
        // loss of a batch without entropy = −mean(advantage · log π)
        const expected =
          -eps.reduce((s, e) => s + e.advantage * c.logProbability(e.steps), 0) / eps.length
        const { loss } = c.lossAndGradients(eps, 0)
        expect(loss).toBeCloseTo(expected, 3)
      }
    }
  })

  it('has gradients that match finite differences (lstm and independent, with entropy)', async () => {
    await ensureBackend()
    const space = chainSpace({ depth: { min: 1, max: 3 } })
    for (const kind of ['lstm', 'independent'] as const) {
      const c = make(kind, space, { temperature: 1.3, tanhConstant: 2 })
      const eps = episodes(space, c, 4, 2)
      const beta = 0.3
      const { grads } = c.lossAndGradients(eps, beta)
      const rng = createRng(5)
      let checked = 0
      for (let k = 0; k < c.params.length; k++) {
        const p = c.params[k]!
        for (let trial = 0; trial < 6; trial++) {
          const i = rng.int(p.length)
          const old = p[i]!
          const h = 1e-2
          p[i] = old + h
          const up = c.lossAndGradients(eps, beta).loss
          p[i] = old - h
          const down = c.lossAndGradients(eps, beta).loss
          p[i] = old
          const numeric = (up - down) / (2 * h)
          expect(grads[k]![i]!, `${kind} ${c.specs[k]!.name}[${i}]`).toBeCloseTo(numeric, 2)
          checked++
        }
      }
      expect(checked).toBeGreaterThan(0)
      // at least one gradient is far from zero: the check is not trivially true
      expect(Math.max(...grads.map((g) => Math.max(...g.map(Math.abs))))).toBeGreaterThan(1e-3)
    }
  })

  it('samples only valid option indices, and clipping bounds the logits', () => {
    const space = nb201Space()
    const c = make('independent', space, { temperature: 1, tanhConstant: 1 })
    c.params[0]!.fill(0)
    c.params[0]![0] = 1000 // without clipping this option would have probability 1
    const vocab = c.vocab
    const first = vocab.groups[0]!
    const steps = [{ group: first, index: 1 }]
    // with c = 1 the largest logit gap is 1: p(option 1) = 1 / (e + 4)
    expect(Math.exp(c.logProbability(steps))).toBeCloseTo(1 / (Math.E + 4), 6)
  })
})
