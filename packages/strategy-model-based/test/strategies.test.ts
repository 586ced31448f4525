import {
  type Arch,
  chainSpace,
  createStrategy,
  nb201Space,
  type SamplingStrategy,
  type SamplingStrategyPlugin,
  type SearchSpace,
  type TrialResult,
} from '@naskit/core'
import { describe, expect, it } from 'vitest'
import { bananasStrategy, boStrategy } from '../src/index'

const nb201 = nb201Space()
/** Best: every edge a 3×3 convolution (6); missing edges hurt. */
const convs = (a: Arch) => {
  const s = JSON.stringify(a)
  return s.split('nor_conv_3x3').length - 1 - 0.5 * (s.split('none').length - 1)
}

async function search(
  s: SamplingStrategy,
  space: SearchSpace,
  f: (a: Arch) => number,
  trials: number,
  batch = 1,
): Promise<{ best: number; keys: string[] }> {
  let best = Number.NEGATIVE_INFINITY
  const keys: string[] = []
  let id = 0
  while (id < trials) {
    const ps = await s.ask(batch)
    const results: TrialResult[] = ps.map((p) => {
      const key = space.key(p.arch)
      keys.push(key)
      const objective = f(p.arch)
      best = Math.max(best, objective)
      return { id: id++, arch: p.arch, key, status: 'ok', objective, metrics: { objective } }
    })
    await s.tell(results)
  }
  return { best, keys }
}

const plugins: Array<[string, SamplingStrategyPlugin]> = [
  ['bananas', bananasStrategy as SamplingStrategyPlugin],
  ['bo', boStrategy as SamplingStrategyPlugin],
]

describe('model-based search', () => {
  for (const [name, plugin] of plugins) {
    it(`${name}: finds the best cell of a smooth objective that random search misses`, async () => {
      const found: number[] = []
      for (const seed of [1, 2, 3]) {
        const s = createStrategy(plugin, { space: nb201, options: { initialSamples: 10 }, seed })
        const { best, keys } = await search(s, nb201, convs, 40)
        expect(new Set(keys).size).toBe(keys.length)
        found.push(best)
      }
      // 40 random cells of 15,625 contain the all-convolution cell with probability 0.3 %
      expect(found).toEqual([6, 6, 6])
    })

    it(`${name}: asks n distinct new architectures at once, pending ones never again`, async () => {
      const s = createStrategy(plugin, { space: nb201, options: { initialSamples: 4 }, seed: 5 })
      await search(s, nb201, convs, 12, 4)
      const first = (await s.ask(6)).map((p) => nb201.key(p.arch))
      const second = (await s.ask(6)).map((p) => nb201.key(p.arch))
      expect(new Set([...first, ...second]).size).toBe(12)
    })

    it(`${name}: works on the chain space (repeats, numbers)`, async () => {
      const chain = chainSpace({ resolution: { low: 16, high: 32, step: 8 } })
      const wide = (a: Arch) => (a.layers as Arch[]).length + 4 * (a.width_multiplier as number)
      const s = createStrategy(plugin, { space: chain, options: { initialSamples: 6 }, seed: 2 })
      const { best } = await search(s, chain, wide, 24, 3)
      expect(best).toBeGreaterThan(16)
    })
  }

  it('bo: a pending architecture moves the next proposal away (kriging believer)', async () => {
    const make = () =>
      createStrategy(boStrategy, { space: nb201, options: { initialSamples: 8 }, seed: 3 })
    const a = make()
    const b = make()
    await search(a, nb201, convs, 20)
    await search(b, nb201, convs, 20)
    // a asks one at a time, b asks both at once: b's second pick knows of its first
    const [a1] = (await a.ask(1)).map((p) => nb201.key(p.arch))
    const [b1, b2] = (await b.ask(2)).map((p) => nb201.key(p.arch))
    expect(b1).toBe(a1)
    expect(b2).not.toBe(b1)
  })

  it('rejects bad options with E_BAD_OPTIONS naming them', () => {
    expect(() =>
      createStrategy(bananasStrategy as SamplingStrategyPlugin, {
        space: nb201,
        options: { layers: 5, acquisition: 'pi' },
      }),
    ).toThrow(/acquisition: must be one of its, ucb, ei[\s\S]*layers: must be ≤ 4/)
    expect(() =>
      createStrategy(boStrategy as SamplingStrategyPlugin, {
        space: chainSpace(),
        options: { encoding: 'path' },
      }),
    ).toThrow(expect.objectContaining({ code: 'E_BAD_OPTIONS' }))
  })
})
