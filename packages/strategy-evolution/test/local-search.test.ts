import {
  type Arch,
  categorical,
  chainSpace,
  createStrategy,
  dartsSpace,
  defineSpace,
  int,
  isNaskitError,
  nasnetSpace,
  nb201Space,
  type SamplingStrategy,
  type SearchSpace,
  type TrialResult,
} from '@naskit/core'
import { describe, expect, it } from 'vitest'
import { localSearchStrategy } from '../src/index'

const space = nb201Space()
/** Number of 3x3 convolutions: a smooth objective whose optimum is all-3x3. */
const convs = (a: Arch) => JSON.stringify(a).split('nor_conv_3x3').length - 1

async function drive(
  s: SamplingStrategy,
  sp: SearchSpace,
  trials: number,
  score: (a: Arch) => number | null,
  batch = 1,
) {
  const asked: Arch[] = []
  while (asked.length < trials) {
    const ps = await s.ask(Math.min(batch, trials - asked.length))
    if (ps.length === 0) break
    await s.tell(
      ps.map((p, i): TrialResult => {
        const v = score(p.arch)
        const key = sp.key(p.arch)
        const id = asked.length + i
        return v === null
          ? { id, arch: p.arch, key, status: 'failed', objective: null, metrics: {} }
          : { id, arch: p.arch, key, status: 'ok', objective: v, metrics: { objective: v } }
      }),
    )
    asked.push(...ps.map((p) => p.arch))
  }
  return asked
}

describe('local-search', () => {
  it('starts from the best of the initial samples and climbs through neighbours to the optimum', async () => {
    for (const improvement of ['first', 'best'] as const) {
      const s = createStrategy(localSearchStrategy, {
        space,
        options: { initialSamples: 5, improvement },
        seed: 1,
      })
      const asked = await drive(s, space, 200, convs)
      expect(Math.max(...asked.map(convs)), improvement).toBe(6)
      // after the start samples, every candidate is a neighbour of an earlier one, until the optimum
      const keys = asked.map((a) => space.key(a))
      const firstBest = keys.findIndex((_, i) => convs(asked[i] as Arch) === 6)
      for (let i = 5; i <= firstBest; i++) {
        const earlier = new Set(keys.slice(0, i))
        expect(space.neighbours(asked[i] as Arch).some((n) => earlier.has(space.key(n)))).toBe(true)
      }
    }
  })

  it('with steepest ascent, evaluates the whole neighbourhood before moving', async () => {
    const s = createStrategy(localSearchStrategy, {
      space,
      options: { initialSamples: 1, improvement: 'best' },
      seed: 2,
    })
    const asked = await drive(s, space, 25, convs)
    const start = asked[0] as Arch
    const round = new Set(space.neighbours(start).map((a) => space.key(a)))
    expect(round.size).toBe(24)
    expect(new Set(asked.slice(1).map((a) => space.key(a)))).toEqual(round)
  })

  it('restarts from a random architecture at a local optimum', async () => {
    // a flat objective: nothing improves, so every round ends in a restart
    const s = createStrategy(localSearchStrategy, {
      space,
      options: { initialSamples: 1, restartSamples: 1, improvement: 'best' },
      seed: 3,
    })
    const asked = await drive(s, space, 60, () => 0.5)
    const start = asked[0] as Arch
    const round = new Set(space.neighbours(start).map((a) => space.key(a)))
    // the 26th candidate is the restart: not a neighbour of the first start
    expect(round.has(space.key(asked[25] as Arch))).toBe(false)
    const restart = asked[25] as Arch
    const next = new Set(space.neighbours(restart).map((a) => space.key(a)))
    expect(next.has(space.key(asked[26] as Arch))).toBe(true)
  })

  it('copes with failed trials, parallel asks and results in any order', async () => {
    const s = createStrategy(localSearchStrategy, {
      space,
      options: { initialSamples: 4 },
      seed: 4,
    })
    const asked = await drive(s, space, 120, (a) => (convs(a) === 2 ? null : convs(a)), 7)
    expect(asked).toHaveLength(120)
    expect(new Set(asked.map((a) => space.key(a))).size).toBe(120)
  })

  it('never asks an architecture twice and exhausts a small space', async () => {
    const small = defineSpace('small', { a: categorical(['p', 'q', 'r']), b: int(0, 4) })
    const s = createStrategy(localSearchStrategy, { space: small, seed: 5 })
    const asked = await drive(s, small, 100, (a) => Number(a.b))
    expect(asked).toHaveLength(15)
    expect(new Set(asked.map((a) => small.key(a))).size).toBe(15)
    expect(s.status?.()).toMatchObject({ done: true, reason: 'exhausted' })
  })

  it('works on every built-in space', async () => {
    for (const sp of [nb201Space(), chainSpace(), nasnetSpace(), dartsSpace()]) {
      const s = createStrategy(localSearchStrategy, { space: sp, seed: 6 })
      const asked = await drive(s, sp, 40, (a) => (JSON.stringify(a).length % 17) / 17, 2)
      expect(asked).toHaveLength(40)
      for (const a of asked) expect(sp.isValid(a)).toBe(true)
    }
  })

  it('rejects a foreign checkpoint', () => {
    const s = createStrategy(localSearchStrategy, { space, seed: 1 })
    let error: unknown
    try {
      s.restore({ version: 1, evaluated: 'x' })
    } catch (e) {
      error = e
    }
    expect(isNaskitError(error, 'E_BAD_STATE')).toBe(true)
  })
})
