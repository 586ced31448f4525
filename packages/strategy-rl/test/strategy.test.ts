import '@tensorflow/tfjs-backend-cpu'
import {
  createRng,
  createStrategy,
  defineSpace,
  categorical,
  int,
  isNaskitError,
  nb201Space,
  repeat,
  type TrialResult,
} from '@naskit/core'
import { StrategyHarness } from '@naskit/core/testing'
import { describe, expect, it } from 'vitest'
import rlDefault, { rlStrategy, strategies } from '../src/index'

const space = nb201Space()
/** A smooth objective on NAS-Bench-201 cells: the number of 3×3 convolutions (0–6). */
const convs = (key: string) => (key.match(/nor_conv_3x3/g) ?? []).length

async function search(
  options: Record<string, unknown>,
  seed: number,
  trials: number,
  keepMeta = true,
) {
  const s = createStrategy(rlStrategy, { space, options, seed })
  const h = new StrategyHarness(s, space)
  const values: number[] = []
  while (values.length < trials) {
    const proposals = await s.ask(1)
    const results: TrialResult[] = proposals.map((p) => {
      const key = space.key(p.arch)
      const objective = convs(key)
      values.push(objective)
      return {
        id: h.nextId++,
        arch: p.arch,
        key,
        status: 'ok',
        objective,
        metrics: { objective },
        ...(keepMeta && p.meta !== undefined ? { meta: p.meta } : {}),
      }
    })
    await s.tell(results)
  }
  return { values, strategy: s }
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length

describe('rl strategy', () => {
  it('is the default export and the only entry of `strategies`', () => {
    expect(rlDefault).toBe(rlStrategy)
    expect(strategies).toEqual([rlStrategy])
    expect(rlStrategy.name).toBe('rl')
  })

  for (const controller of ['lstm', 'independent'] as const) {
    it(`learns: the ${controller} controller's later samples beat its first ones and random sampling`, async () => {
      // the independent policy has no shared weights and likes a larger learning rate
      const { values } = await search(
        { controller, ...(controller === 'independent' ? { learningRate: 0.1 } : {}) },
        3,
        120,
      )
      const early = mean(values.slice(0, 20))
      const late = mean(values.slice(-30))
      // uniform sampling gives 6 · 1/5 = 1.2 convolutions per cell
      expect(late).toBeGreaterThan(early + 1)
      expect(late).toBeGreaterThan(2 * 1.2)
    })
  }

  it('proposes the same sequence whether or not the host hands `meta` back', async () => {
    const a = await search({ batchSize: 2 }, 8, 30, true)
    const b = await search({ batchSize: 2 }, 8, 30, false)
    expect(b.values).toEqual(a.values)
    expect(JSON.stringify(b.strategy.state())).toEqual(JSON.stringify(a.strategy.state()))
  })

  it('stores the sampled decisions in meta', async () => {
    const s = createStrategy(rlStrategy, { space, seed: 1 })
    const [p] = await s.ask(1)
    if (p === undefined) throw new Error('no proposal')
    const decisions = (p.meta as { decisions: number[] }).decisions
    expect(decisions).toHaveLength(6)
    expect(space.trace(p.arch).map((t) => t.index)).toEqual(decisions)
  })

  it('learns nothing from failed trials with onFailure "ignore", and penalizes them with "penalize"', async () => {
    for (const onFailure of ['ignore', 'penalize'] as const) {
      // one result per update, so any learning from a failure shows in the weights
      const s = createStrategy(rlStrategy, { space, seed: 4, options: { onFailure, batchSize: 1 } })
      const h = new StrategyHarness(s, space)
      await h.round(3, { failures: false }) // three ok results: the baseline is set
      const before = (s.state() as { params: string[] }).params
      const failed = h
        .evaluate(await s.ask(2))
        .map((r) => ({ ...r, status: 'failed' as const, objective: null }))
      await s.tell(failed)
      const nan = h.evaluate(await s.ask(1), { nan: true, failures: false })
      await s.tell(nan)
      const after = (s.state() as { params: string[] }).params
      if (onFailure === 'ignore') expect(after).toEqual(before)
      else expect(after).not.toEqual(before)
    }
  })

  it('updates once per batch of finished results', async () => {
    const s = createStrategy(rlStrategy, { space, seed: 2, options: { batchSize: 4 } })
    const h = new StrategyHarness(s, space)
    await h.round(3, { failures: false })
    expect((s.state() as { updates: number }).updates).toBe(0)
    await h.round(1, { failures: false })
    expect((s.state() as { updates: number }).updates).toBe(1)
    await h.round(9, { failures: false })
    expect((s.state() as { updates: number; buffer: unknown[] }).updates).toBe(3)
    expect((s.state() as { buffer: unknown[] }).buffer).toHaveLength(1)
  })

  it('drives variable-depth spaces: the count first, then only the active layers', async () => {
    const deep = defineSpace('deep', {
      layers: repeat({ min: 1, max: 4 }, { op: categorical(['a', 'b', 'c']), width: int(1, 3) }),
    })
    const s = createStrategy(rlStrategy, { space: deep, seed: 5 })
    const h = new StrategyHarness(s, deep)
    for (let r = 0; r < 8; r++) await h.round(3)
    for (const p of await s.ask(5)) {
      const layers = p.arch.layers as unknown[]
      expect((p.meta as { decisions: number[] }).decisions).toHaveLength(1 + 2 * layers.length)
    }
  })

  it('never repeats an architecture and ends with status "exhausted" on a small space', async () => {
    const small = defineSpace('small', {
      a: categorical(['x', 'y', 'z', 'w']),
      b: categorical([1, 2, 3]),
    })
    const s = createStrategy(rlStrategy, { space: small, seed: 6 })
    const h = new StrategyHarness(s, small)
    for (let r = 0; r < 10; r++) await h.round(2)
    expect(new Set(h.asked).size).toBe(12)
    expect(h.asked).toHaveLength(12)
    expect(s.status?.()).toMatchObject({ done: true, reason: 'exhausted' })
    expect(await s.ask(1)).toEqual([])
  })

  it('rejects a checkpoint of another space or controller with E_BAD_STATE', async () => {
    const s = createStrategy(rlStrategy, { space, seed: 1 })
    const state = s.state()
    const other = createStrategy(rlStrategy, {
      space,
      seed: 1,
      options: { controller: 'independent' },
    })
    expect(() => other.restore(state)).toThrow(expect.objectContaining({ code: 'E_BAD_STATE' }))
    const tiny = defineSpace('t', { a: categorical([1, 2]) })
    const t = createStrategy(rlStrategy, { space: tiny, seed: 1 })
    try {
      t.restore(state)
      expect.unreachable()
    } catch (e) {
      expect(isNaskitError(e, 'E_BAD_STATE')).toBe(true)
    }
    expect(() => s.restore({ version: 2 })).toThrow(/version-1/)
  })

  it('validates its options with E_BAD_OPTIONS', () => {
    expect(() => createStrategy(rlStrategy, { space, options: { controller: 'gru' } })).toThrow(
      expect.objectContaining({ code: 'E_BAD_OPTIONS' }),
    )
    expect(() => createStrategy(rlStrategy, { space, options: { batchSize: 0 } })).toThrow(
      /batchSize/,
    )
  })

  it("keeps the baseline as an EMA of the rewards: b ← 0.9·b + 0.1·objective with reward 'objective'", async () => {
    const s = createStrategy(rlStrategy, { space, seed: 1, options: { reward: 'objective' } })
    const proposals = await s.ask(3)
    const objectives = [0.5, 0.7, 0.2]
    const results: TrialResult[] = proposals.map((p, i) => {
      const key = space.key(p.arch)
      const objective = objectives[i] as number
      return {
        id: i,
        arch: p.arch,
        key,
        status: 'ok',
        objective,
        metrics: { objective },
        ...(p.meta === undefined ? {} : { meta: p.meta }),
      }
    })
    await s.tell(results)
    const expected = 0.9 * (0.9 * 0.5 + 0.1 * 0.7) + 0.1 * 0.2
    expect((s.state() as { baseline: number }).baseline).toBeCloseTo(expected, 12)
  })

  it('learns from results it never asked for (no meta), tracing their decisions', async () => {
    const s = createStrategy(rlStrategy, { space, seed: 1, options: { batchSize: 2 } })
    const h = new StrategyHarness(s, space)
    const rng = createRng(9)
    const foreign = h.evaluate(
      Array.from({ length: 4 }, () => ({ arch: space.sample(rng) })),
      { failures: false },
    )
    await s.tell(foreign)
    expect((s.state() as { updates: number }).updates).toBe(2)
    for (const p of await s.ask(4)) expect(space.isValid(p.arch)).toBe(true)
  })

  it('uses every reward transform', async () => {
    for (const reward of ['objective', 'standardized', 'rank'] as const) {
      const { values } = await search(
        { reward, controller: 'independent', learningRate: 0.2 },
        1,
        60,
      )
      expect(mean(values.slice(-20))).toBeGreaterThan(mean(values.slice(0, 20)))
    }
  })
})
