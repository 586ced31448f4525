import {
  createStrategy,
  defineStrategy,
  type JsonValue,
  nb201Space,
  type Proposal,
  randomStrategy,
  type SamplingStrategy,
  type SamplingStrategyPlugin,
  type TrialResult,
} from '@naskit/core'
import { describe, expect, it } from 'vitest'
import {
  ashaStrategy,
  hyperbandPlan,
  hyperbandStrategy,
  makeLadder,
  type MultiFidelityStrategy,
  type RungMeta,
  successiveHalvingStrategy,
  withSampler,
} from '../src/index'

const space = nb201Space()
let nextId = 0

/** Results for proposals: `objective(key, i)` gives each one's objective (null: failed). */
function results(
  proposals: Proposal[],
  objective: (key: string, i: number) => number | null = (_, i) => i,
): TrialResult[] {
  return proposals.map((p, i): TrialResult => {
    const key = space.key(p.arch)
    const v = objective(key, i)
    const base = {
      id: nextId++,
      arch: p.arch,
      key,
      ...(p.meta === undefined ? {} : { meta: p.meta }),
      ...(p.fidelity ? { fidelity: p.fidelity } : {}),
    }
    return v === null
      ? {
          ...base,
          status: 'failed',
          objective: null,
          metrics: {},
          error: { code: 'E_TEST', message: 'x' },
        }
      : { ...base, status: 'ok', objective: v, metrics: { objective: v } }
  })
}

const meta = (p: Proposal) => p.meta as unknown as RungMeta

/** Random search that records what it is told. */
function recordingSampler(told: TrialResult[]): SamplingStrategyPlugin {
  return defineStrategy({
    name: 'recorder',
    kind: 'sampling',
    description: 'random search that records its results',
    options: {},
    create(ctx): SamplingStrategy {
      const inner = randomStrategy.create({
        ...ctx,
        options: { maxRejections: 64, enumerateLimit: 1e6 },
      })
      let asked = 0
      return {
        ask: async (n) => {
          const ps = (await inner.ask(n)) as Proposal[]
          return ps.map((p) => ({ ...p, meta: { mine: asked++ } }))
        },
        tell: (r) => {
          told.push(...r)
        },
        state: () => ({ inner: inner.state(), asked }),
        restore: (s) => {
          const x = s as { inner: JsonValue; asked: number }
          inner.restore(x.inner)
          asked = x.asked
        },
        status: () => inner.status?.() ?? { done: false },
      }
    },
  })
}

describe('makeLadder', () => {
  const owner = 'test'
  it('anchors the rungs at the maximum resource, η apart', () => {
    expect(makeLadder({ resource: 'epochs', min: 1, max: 9, eta: 3, owner }).levels).toEqual([
      1, 3, 9,
    ])
    expect(makeLadder({ resource: 'epochs', min: 1, max: 12, eta: 3, owner }).levels).toEqual([
      1, 4, 12,
    ])
    expect(makeLadder({ resource: 'epochs', min: 2, max: 2, eta: 3, owner }).levels).toEqual([2])
    expect(makeLadder({ resource: 'epochs', min: 1, max: 81, eta: 3, owner }).levels).toEqual([
      1, 3, 9, 27, 81,
    ])
    expect(
      makeLadder({ resource: 'dataFraction', min: 0.1, max: 1, eta: 3, owner }).levels,
    ).toEqual([0.111111, 0.333333, 1])
  })

  it('rejects options that make no ladder, naming the option', () => {
    const plugins = [successiveHalvingStrategy, hyperbandStrategy] as SamplingStrategyPlugin[]
    for (const plugin of plugins) {
      const make = (options: Record<string, unknown>) => () =>
        createStrategy(plugin, { space, options })
      expect(make({ minResource: 10, maxResource: 9 })).toThrow(
        /maxResource \(9\) must be at least minResource/,
      )
      expect(make({ minResource: 0.5 })).toThrow(/whole numbers of epochs/)
      expect(make({ resource: 'dataFraction', minResource: 0.1, maxResource: 2 })).toThrow(
        /at most 1/,
      )
      expect(make({ fidelity: { epochs: 3 } })).toThrow(/must not set "epochs"/)
      expect(make({ fidelity: { dataFraction: 'half' } })).toThrow(
        /fidelity.dataFraction must be a number/,
      )
      expect(make({ eta: 1 })).toThrow(/E_BAD_OPTIONS|eta/)
    }
    expect(() => createStrategy(ashaStrategy, { space, options: { gracePeriod: 0 } })).toThrow(
      /gracePeriod must be a positive number/,
    )
  })
})

describe('hyperbandPlan', () => {
  it('gives the brackets of Li et al.: most aggressive first', () => {
    const ladder = makeLadder({ resource: 'epochs', min: 1, max: 81, eta: 3, owner: 't' })
    const plan = hyperbandPlan(ladder)
    expect([0, 1, 2, 3, 4].map(plan)).toEqual([
      { start: 0, n: 81 },
      { start: 1, n: 34 },
      { start: 2, n: 15 },
      { start: 3, n: 8 },
      { start: 4, n: 5 },
    ])
    expect(plan(5)).toBeNull()
    expect(hyperbandPlan(ladder, 2, 0)(7)).toEqual({ start: 1, n: 34 })
  })
})

describe('successive halving', () => {
  it('waits for a rung to finish, then promotes the best 1/η with continueFrom', async () => {
    const s = createStrategy(successiveHalvingStrategy, { space, seed: 1 })
    const first = await s.ask(20)
    expect(first).toHaveLength(9)
    for (const p of first) {
      expect(p.fidelity).toEqual({ epochs: 1 })
      expect(meta(p)).toEqual({ multiFidelity: 'successive-halving', bracket: 0, rung: 0 })
      expect(p.continueFrom).toBeUndefined()
    }
    // the best (i = 8) fails, the second best reports NaN: neither is promoted
    const told = results(first, (_, i) => (i === 8 ? null : i === 7 ? Number.NaN : i))
    await s.tell(told.slice(0, 8))
    expect(await s.ask(4)).toEqual([])
    expect(s.status?.()).toEqual({ done: false })
    await s.tell(told.slice(8))
    const second = await s.ask(4)
    expect(second).toHaveLength(3)
    const winners = [6, 5, 4].map((i) => told[i] as TrialResult)
    expect(second.map((p) => space.key(p.arch))).toEqual(winners.map((t) => t.key))
    expect(second.map((p) => p.continueFrom)).toEqual(winners.map((t) => t.id))
    expect(second.map((p) => meta(p).promotedFrom)).toEqual(winners.map((t) => t.id))
    expect(second.map((p) => p.fidelity)).toEqual([{ epochs: 3 }, { epochs: 3 }, { epochs: 3 }])
    await s.tell(results(second, (_, i) => 10 - i))
    const third = await s.ask(4)
    expect(third).toHaveLength(1)
    expect(third[0]?.fidelity).toEqual({ epochs: 9 })
    expect(meta(third[0] as Proposal).rung).toBe(2)
    expect(s.status?.().done).toBe(false)
    await s.tell(results(third))
    expect(await s.ask(4)).toEqual([])
    const status = s.status?.()
    expect(status?.done).toBe(true)
    expect(status && 'message' in status ? status.message : '').toMatch(
      /Successive halving finished: its bracket ran\. rung 0 \(1 epoch\): 9 trained, 3 promoted; rung 1 \(3 epochs\): 3 trained, 1 promoted; rung 2 \(9 epochs\): 1 trained\./,
    )
  })

  it('ends a bracket whose rung all failed', async () => {
    const s = createStrategy(successiveHalvingStrategy, { space, seed: 2, options: { rounds: 2 } })
    const first = await s.ask(9)
    await s.tell(results(first, () => null))
    const next = await s.ask(9)
    expect(next).toHaveLength(9)
    expect(next.every((p) => meta(p).bracket === 1 && meta(p).rung === 0)).toBe(true)
  })

  it('carries the fixed fidelity fields and varies a data fraction', async () => {
    const s = createStrategy(successiveHalvingStrategy, {
      space,
      options: {
        resource: 'dataFraction',
        minResource: 0.25,
        maxResource: 1,
        eta: 2,
        fidelity: { epochs: 4 },
      },
    })
    const first = await s.ask(10)
    expect(first).toHaveLength(4)
    expect(first[0]?.fidelity).toEqual({ epochs: 4, dataFraction: 0.25 })
  })
})

describe('promotable()', () => {
  it('lists the trials a rung may still promote or whose continuation is running', async () => {
    const s = createStrategy(successiveHalvingStrategy, { space, seed: 1 }) as MultiFidelityStrategy
    const first = await s.ask(9)
    const r0 = results(first, (_, i) => (i === 0 ? null : i))
    await s.tell(r0.slice(0, 5))
    // rung 0 undecided: every finished ok trial may be promoted
    expect(s.promotable()).toEqual(r0.slice(1, 5).map((t) => t.id))
    await s.tell(r0.slice(5))
    // decided: only the three winners, until their continuations finish
    const winners = [8, 7, 6].map((i) => (r0[i] as TrialResult).id).sort((a, b) => a - b)
    expect(s.promotable()).toEqual(winners)
    const second = await s.ask(3)
    expect(s.promotable()).toEqual(winners)
    const r1 = results(second)
    await s.tell(r1)
    expect(s.promotable()).toEqual([...(await s.ask(1)).map((p) => p.continueFrom)])
    const asha = createStrategy(ashaStrategy, { space, seed: 1 }) as MultiFidelityStrategy
    const a = await asha.ask(3)
    const ra = results(a)
    await asha.tell(ra)
    expect(asha.promotable()).toEqual(ra.map((t) => t.id))
  })
})

describe('hyperband', () => {
  it('runs its brackets in parallel when a rung waits, or one at a time', async () => {
    const parallel = createStrategy(hyperbandStrategy, { space, seed: 1 })
    const a = await parallel.ask(12)
    expect(a.map((p) => [meta(p).bracket, meta(p).rung, p.fidelity?.epochs])).toEqual([
      ...Array.from({ length: 9 }, () => [0, 0, 1]),
      [1, 1, 3],
      [1, 1, 3],
      [1, 1, 3],
    ])
    const serial = createStrategy(hyperbandStrategy, {
      space,
      seed: 1,
      options: { parallelBrackets: false },
    })
    expect(await serial.ask(12)).toHaveLength(9)
    expect(await serial.ask(12)).toHaveLength(0)
  })

  it('is done once every bracket ran: 22 trials with the defaults', async () => {
    const s = createStrategy(hyperbandStrategy, { space, seed: 3 })
    let trials = 0
    for (let round = 0; round < 50 && !s.status?.().done; round++) {
      const ps = await s.ask(4)
      trials += ps.length
      await s.tell(results(ps, (key) => key.length % 7))
    }
    expect(trials).toBe(22)
    const status = s.status?.()
    expect(status && 'message' in status ? status.message : '').toMatch(
      /^Hyperband finished: all 3 brackets ran/,
    )
  })

  it('with iterations 0 keeps starting brackets', async () => {
    const s = createStrategy(hyperbandStrategy, { space, seed: 3, options: { iterations: 0 } })
    let trials = 0
    for (let round = 0; round < 40; round++) {
      const ps = await s.ask(4)
      trials += ps.length
      await s.tell(results(ps))
    }
    expect(trials).toBe(160)
    expect(s.status?.().done).toBe(false)
  })
})

describe('asha', () => {
  it('promotes as soon as a candidate is in the top 1/η of its rung', async () => {
    const s = createStrategy(ashaStrategy, { space, seed: 1 })
    const first = await s.ask(2)
    await s.tell(results(first, (_, i) => [0.5, 0.9][i] as number))
    // 2 finished: ⌊2/3⌋ = 0 promotions, so a new candidate
    const second = await s.ask(1)
    expect(meta(second[0] as Proposal).rung).toBe(0)
    const told = results(second, () => 0.7)
    await s.tell(told)
    // 3 finished: the best one (0.9) moves up at once
    const third = await s.ask(2)
    expect(third.map((p) => meta(p).rung)).toEqual([1, 0])
    expect(third[0]?.fidelity).toEqual({ epochs: 3 })
    expect(space.key(third[0]?.arch as never)).toBe(space.key(first[1]?.arch as never))
    expect(third[0]?.continueFrom).toBe(nextId - 2)
    // no candidate is promoted twice
    expect((await s.ask(1)).map((p) => meta(p).rung)).toEqual([0])
  })

  it('never promotes failed or NaN trials', async () => {
    const s = createStrategy(ashaStrategy, { space, seed: 4 })
    const first = await s.ask(6)
    await s.tell(results(first, (_, i) => (i < 3 ? null : Number.NaN)))
    const next = await s.ask(3)
    expect(next.every((p) => meta(p).rung === 0)).toBe(true)
  })

  it('ends when the candidates are drawn and nothing can be promoted', async () => {
    const s = createStrategy(ashaStrategy, { space, seed: 5, options: { maxCandidates: 9 } })
    let trials = 0
    for (let round = 0; round < 30 && !s.status?.().done; round++) {
      const ps = await s.ask(3)
      trials += ps.length
      await s.tell(results(ps, (key) => key.length + (key.charCodeAt(5) % 13)))
    }
    const status = s.status?.()
    expect(status?.done).toBe(true)
    expect(status && 'message' in status ? status.message : '').toMatch(
      /^ASHA finished: 9 candidates were drawn and no candidate can be promoted any more\. rung 0 \(1 epoch\): 9 trained/,
    )
    expect(trials).toBeGreaterThanOrEqual(9 + 3 + 1)
  })

  it('with two brackets, new candidates take turns between rung 0 and rung 1', async () => {
    const s = createStrategy(ashaStrategy, { space, seed: 6, options: { brackets: 2 } })
    const ps = await s.ask(4)
    expect(ps.map((p) => [meta(p).bracket, meta(p).rung])).toEqual([
      [0, 0],
      [1, 1],
      [0, 0],
      [1, 1],
    ])
  })
})

describe('the sampler', () => {
  it("is told each candidate's first result once, with its own meta ('first')", async () => {
    const told: TrialResult[] = []
    const plugin = withSampler(successiveHalvingStrategy, recordingSampler(told))
    const s = createStrategy(plugin, { space, seed: 1, options: { feedback: 'first' } })
    const first = await s.ask(9)
    const r0 = results(first)
    await s.tell(r0.slice(0, 4))
    expect(told.map((t) => t.id)).toEqual(r0.slice(0, 4).map((t) => t.id))
    await s.tell(r0.slice(4))
    const second = await s.ask(9)
    await s.tell(results(second))
    expect(told).toHaveLength(9)
    expect(told.map((t) => (t.meta as { mine: number }).mine)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8])
    expect(told.every((t) => t.fidelity?.epochs === 1)).toBe(true)
  })

  it("is told each candidate's last result once it is decided ('final', the default)", async () => {
    const told: TrialResult[] = []
    const plugin = withSampler(successiveHalvingStrategy, recordingSampler(told))
    const s = createStrategy(plugin, { space, seed: 1 })
    const first = await s.ask(9)
    await s.tell(results(first).slice(0, 8))
    expect(told).toHaveLength(0)
    await s.tell(results(first.slice(8), () => 8))
    expect(told).toHaveLength(6) // the six not promoted
    const second = await s.ask(9)
    await s.tell(results(second))
    const third = await s.ask(9)
    await s.tell(results(third, () => 99))
    expect(told).toHaveLength(9)
    const last = told[told.length - 1] as TrialResult
    expect(last.objective).toBe(99)
    expect(last.fidelity).toEqual({ epochs: 9 })
    expect(new Set(told.map((t) => t.key)).size).toBe(9)
  })

  it('trains an architecture proposed twice once, and tells the second proposal its result', async () => {
    const told: TrialResult[] = []
    const arch = space.sample(new (await import('@naskit/core')).Rng(1))
    const repeating = defineStrategy({
      name: 'repeater',
      kind: 'sampling',
      description: 'proposes the same architecture, then random ones',
      options: {},
      create(ctx) {
        const inner = randomStrategy.create({
          ...ctx,
          options: { maxRejections: 64, enumerateLimit: 1e6 },
        })
        let calls = 0
        return {
          ask: async (n: number) =>
            calls++ < 2 ? [{ arch, meta: { call: calls } }] : ((await inner.ask(n)) as Proposal[]),
          tell: (r: readonly TrialResult[]) => {
            told.push(...r)
          },
          state: () => ({ calls, inner: inner.state() }),
          restore: () => {},
        }
      },
    })
    const s = createStrategy(withSampler(ashaStrategy, repeating), { space, seed: 1 })
    const a = await s.ask(1)
    const b = await s.ask(1)
    expect(space.key(b[0]?.arch as never)).not.toBe(space.key(a[0]?.arch as never))
    await s.tell(results(a, () => 0.25))
    expect(told.map((t) => [t.objective, (t.meta as { call: number }).call])).toEqual([
      [0.25, 1],
      [0.25, 2],
    ])
  })

  it('is resolved by name: evolution and rl work as samplers', async () => {
    for (const [sampler, samplerOptions] of [
      ['evolution', { populationSize: 4, sampleSize: 2 }],
      ['rl', { batchSize: 2 }],
    ] as const) {
      const s = createStrategy(hyperbandStrategy, {
        space,
        seed: 2,
        options: { sampler, samplerOptions },
      })
      let promoted = 0
      for (let round = 0; round < 12; round++) {
        const ps = await s.ask(3)
        promoted += ps.filter((p) => p.continueFrom !== undefined).length
        await s.tell(results(ps, (key) => (key.length * 7919) % 101))
      }
      expect(promoted).toBeGreaterThan(0)
      const snapshot = JSON.parse(JSON.stringify(s.state()))
      expect(snapshot.pool.sampler).not.toBeNull()
      await s.dispose?.()
    }
  })

  it('names the problem with an unknown, one-shot or multi-fidelity sampler', async () => {
    const unknown = createStrategy(asha(), { space, options: { sampler: 'no-such-sampler' } })
    await expect(unknown.ask(1)).rejects.toThrow(/Unknown strategy "no-such-sampler"/)
    const nested = createStrategy(asha(), { space, options: { sampler: 'hyperband' } })
    await expect(nested.ask(1)).rejects.toThrow(/itself a multi-fidelity schedule/)
    const bad = createStrategy(asha(), { space, options: { samplerOptions: { nope: 1 } } })
    await expect(bad.ask(1)).rejects.toThrow(/nope: unknown option/)
    expect(() =>
      withSampler(hyperbandStrategy, {
        ...hyperbandStrategy,
        name: 'x',
        kind: 'one-shot',
      } as never),
    ).toThrow(/one-shot strategy/)
    expect(() =>
      createStrategy(withSampler(ashaStrategy, randomStrategy), {
        space,
        options: { sampler: 'evolution' },
      }),
    ).toThrow(/leave the sampler option out/)
  })
})

function asha(): SamplingStrategyPlugin {
  return ashaStrategy as SamplingStrategyPlugin
}
