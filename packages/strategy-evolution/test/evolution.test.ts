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
import { syntheticObjective } from '@naskit/core/testing'
import { describe, expect, it } from 'vitest'
import evolutionDefault, { evolutionStrategy, strategies } from '../src/index'

const space = nb201Space()

function result(
  space: SearchSpace,
  arch: Arch,
  id: number,
  objective: number | null = syntheticObjective(space.key(arch)),
): TrialResult {
  const key = space.key(arch)
  return objective === null
    ? {
        id,
        arch,
        key,
        status: 'failed',
        objective: null,
        metrics: {},
        error: { code: 'E_TEST', message: 'x' },
      }
    : { id, arch, key, status: 'ok', objective, metrics: { objective } }
}

async function drive(
  s: SamplingStrategy,
  sp: SearchSpace,
  trials: number,
  batch = 1,
  score = (a: Arch) => syntheticObjective(sp.key(a)),
) {
  const asked: Arch[] = []
  while (asked.length < trials) {
    const ps = await s.ask(Math.min(batch, trials - asked.length))
    if (ps.length === 0) break
    asked.push(...ps.map((p) => p.arch))
    await s.tell(ps.map((p, i) => result(sp, p.arch, asked.length + i, score(p.arch))))
  }
  return asked
}

describe('evolution', () => {
  it('is the default export and listed in strategies', () => {
    expect(evolutionDefault).toBe(evolutionStrategy)
    expect(strategies.map((s) => s.name)).toEqual(['evolution', 'local-search'])
  })

  it('starts with P random architectures, then asks one-decision mutations of population members', async () => {
    const P = 6
    const s = createStrategy(evolutionStrategy, {
      space,
      options: { populationSize: P, sampleSize: 3 },
      seed: 1,
    })
    const first = await s.ask(P)
    expect(first).toHaveLength(P)
    await s.tell(first.map((p, i) => result(space, p.arch, i)))
    const parents = first.map((p) => space.key(p.arch))
    for (let i = 0; i < 10; i++) {
      const [child] = await s.ask(1)
      const neighbourOf = first.some((p) =>
        space.neighbours(p.arch).some((n) => space.key(n) === space.key(child!.arch)),
      )
      expect(neighbourOf, 'the child differs from a member in one decision').toBe(true)
      expect(parents).not.toContain(space.key(child!.arch))
      s.tell([]) // results come later
      first.push(child!)
    }
  })

  it('mutates the best of the tournament (S = P: always the best member)', async () => {
    const P = 5
    const s = createStrategy(evolutionStrategy, {
      space,
      options: { populationSize: P, sampleSize: P },
      seed: 2,
    })
    const init = await s.ask(P)
    // the best member is the youngest, so it outlives the next P - 1 children
    const scores = [0.1, 0.3, 0.2, 0.4, 0.9]
    await s.tell(init.map((p, i) => result(space, p.arch, i, scores[i] as number)))
    const nb = new Set(space.neighbours(init[4]!.arch).map((a) => space.key(a)))
    const children: string[] = []
    for (let i = 0; i < P; i++) {
      const [c] = await s.ask(1)
      expect(nb.has(space.key(c!.arch))).toBe(true)
      children.push(space.key(c!.arch))
      await s.tell([result(space, c!.arch, 10 + i, 0)])
    }
    // now the best member has died of old age and the children are the population
    const pop = (s.state() as { population: Array<{ key: string }> }).population.map((m) => m.key)
    expect(pop).toEqual(children)
  })

  it('lets the oldest member die, not the worst', async () => {
    const P = 3
    const s = createStrategy(evolutionStrategy, {
      space,
      options: { populationSize: P, sampleSize: P },
      seed: 4,
    })
    const init = await s.ask(P)
    // the oldest member is the best; after P more results it must be gone
    await s.tell(init.map((p, i) => result(space, p.arch, i, i === 0 ? 1 : 0.5)))
    const children: Arch[] = []
    for (let i = 0; i < P; i++) {
      const [c] = await s.ask(1)
      children.push(c!.arch)
      await s.tell([result(space, c!.arch, P + i, 0.1)])
    }
    const state = s.state() as { population: Array<{ key: string; objective: number }> }
    expect(state.population.map((m) => m.key)).toEqual(children.map((a) => space.key(a)))
    const [next] = await s.ask(1)
    const isChildOf = (parent: Arch) =>
      space.neighbours(parent).some((n) => space.key(n) === space.key(next!.arch))
    expect(children.some(isChildOf)).toBe(true)
  })

  it('hands out n children at once and accepts their results in any order', async () => {
    const s = createStrategy(evolutionStrategy, {
      space,
      options: { populationSize: 4, sampleSize: 2 },
      seed: 5,
    })
    const init = await s.ask(4)
    await s.tell(init.map((p, i) => result(space, p.arch, i)).reverse())
    const kids = await s.ask(8)
    expect(kids).toHaveLength(8)
    expect(new Set(kids.map((k) => space.key(k.arch))).size).toBe(8)
    const rs = kids.map((k, i) => result(space, k.arch, 10 + i, i % 3 === 0 ? null : Number.NaN))
    rs[1] = result(space, kids[1]!.arch, 11)
    await s.tell([rs[5]!, rs[1]!, rs[0]!])
    await s.tell(rs.filter((_, i) => ![0, 1, 5].includes(i)))
    const pop = (s.state() as { population: Array<{ objective: number }> }).population
    expect(pop.length).toBe(4)
    expect(pop.every((m) => Number.isFinite(m.objective))).toBe(true)
  })

  it('never asks an architecture twice while unseen ones remain, and exhausts a small space', async () => {
    const small = defineSpace('small', { a: categorical(['p', 'q', 'r', 's']), b: int(0, 5) })
    const s = createStrategy(evolutionStrategy, {
      space: small,
      options: { populationSize: 3, sampleSize: 2 },
      seed: 6,
    })
    const asked = await drive(s, small, 100, 2)
    expect(asked).toHaveLength(24)
    expect(new Set(asked.map((a) => small.key(a))).size).toBe(24)
    expect(s.status?.()).toMatchObject({ done: true, reason: 'exhausted' })
    expect(await s.ask(1)).toEqual([])
  })

  it('works on every built-in space', async () => {
    for (const sp of [nb201Space(), chainSpace(), nasnetSpace(), dartsSpace()]) {
      const s = createStrategy(evolutionStrategy, {
        space: sp,
        options: { populationSize: 5, sampleSize: 3 },
        seed: 7,
      })
      const asked = await drive(s, sp, 30, 3)
      expect(asked).toHaveLength(30)
      for (const a of asked) expect(sp.isValid(a)).toBe(true)
      expect(new Set(asked.map((a) => sp.key(a))).size).toBe(30)
    }
  })

  it('beats random sampling on a smooth objective', async () => {
    const score = (a: Arch) => JSON.stringify(a).split('nor_conv_3x3').length
    const best = async (options: object, seed: number) => {
      const s = createStrategy(evolutionStrategy, { space, options, seed })
      const asked = await drive(s, space, 60, 1, score)
      return Math.max(...asked.map(score))
    }
    let evo = 0
    let rnd = 0
    for (let seed = 0; seed < 10; seed++) {
      evo += await best({ populationSize: 10, sampleSize: 5 }, seed)
      rnd += await best({ populationSize: 60, sampleSize: 5 }, seed) // P = budget: pure random
    }
    expect(evo).toBeGreaterThan(rnd)
  })

  it('rejects a foreign checkpoint', () => {
    const s = createStrategy(evolutionStrategy, { space, seed: 1 })
    let error: unknown
    try {
      s.restore({ version: 2 })
    } catch (e) {
      error = e
    }
    expect(isNaskitError(error, 'E_BAD_STATE')).toBe(true)
  })
})
