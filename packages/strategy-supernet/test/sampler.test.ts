import { chainSpace, NB201_OPS, nb201Space, Rng } from '@naskit/core'
import { describe, expect, it } from 'vitest'
import { createSampler, fairSampler, kendallTau, uniformSampler } from '../src/index'

const space = nb201Space()
const ops = (a: ReturnType<typeof space.sample>) =>
  (a.cell as { nodes: Array<{ ops: string[] }> }).nodes.flatMap((n) => n.ops)

describe('fairSampler', () => {
  it('picks every op of every edge exactly once in each group', () => {
    const s = fairSampler(space, new Rng(1))
    expect(s.group).toBe(NB201_OPS.length)
    for (let g = 0; g < 4; g++) {
      const group = Array.from({ length: s.group }, () => ops(s.next()))
      for (let edge = 0; edge < 6; edge++) {
        const seen = group.map((o) => o[edge]).sort()
        expect(seen).toEqual([...NB201_OPS].sort())
      }
    }
  })

  it('draws valid architectures of spaces with repeats and numbers', () => {
    const chain = chainSpace({
      resolution: { low: 8, high: 16, step: 4 },
      depth: { min: 2, max: 5 },
    })
    const s = fairSampler(chain, new Rng(2))
    for (let i = 0; i < 20; i++) expect(chain.isValid(s.next())).toBe(true)
  })

  it('continues the exact sequence after state() and restore()', () => {
    const a = fairSampler(space, new Rng(3))
    for (let i = 0; i < 7; i++) a.next()
    const b = fairSampler(space, new Rng(99))
    b.restore(JSON.parse(JSON.stringify(a.state())))
    for (let i = 0; i < 9; i++) expect(space.key(b.next())).toBe(space.key(a.next()))
  })
})

describe('uniformSampler', () => {
  it('samples the space uniformly and restores its state', () => {
    const a = uniformSampler(space, new Rng(4))
    const counts = new Map<string, number>()
    for (let i = 0; i < 1000; i++)
      for (const o of ops(a.next())) counts.set(o, (counts.get(o) ?? 0) + 1)
    for (const op of NB201_OPS) expect(counts.get(op)! / 6000).toBeGreaterThan(0.17)
    const b = uniformSampler(space, new Rng(5))
    b.restore(a.state())
    expect(space.key(b.next())).toBe(space.key(a.next()))
  })

  it('rejects unknown sampler kinds', () => {
    expect(() => createSampler('greedy' as never, space, new Rng(0))).toThrow(/uniform or fair/)
  })
})

describe('kendallTau', () => {
  it('is 1 for the same order, -1 for the reverse, and handles ties', () => {
    expect(kendallTau([1, 2, 3, 4], [10, 20, 30, 40])).toBeCloseTo(1)
    expect(kendallTau([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(-1)
    // one discordant pair of six
    expect(kendallTau([1, 2, 3, 4], [1, 2, 4, 3])).toBeCloseTo(4 / 6)
    expect(kendallTau([1, 1, 2], [1, 2, 3])).toBeCloseTo(2 / Math.sqrt(2 * 3))
    expect(kendallTau([1, 1], [2, 3])).toBeNaN()
  })
})
