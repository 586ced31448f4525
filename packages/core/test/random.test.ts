import { describe, expect, it } from 'vitest'
import {
  categorical,
  createStrategy,
  defineSpace,
  isNaskitError,
  nb201Space,
  randomStrategy,
  simpleSearch,
  toTrialResult,
} from '../src/index'
import { StrategyHarness, strategyContract } from '../src/testing/index'

strategyContract(randomStrategy)

describe('random strategy', () => {
  it('never repeats an architecture and exhausts NAS-Bench-201 exactly', async () => {
    const space = nb201Space()
    const s = createStrategy(randomStrategy, { space, seed: 3 })
    const keys = new Set<string>()
    let total = 0
    while (true) {
      const batch = await s.ask(1000)
      if (batch.length === 0) break
      for (const p of batch) keys.add(space.key(p.arch))
      total += batch.length
    }
    expect(total).toBe(15_625)
    expect(keys.size).toBe(15_625)
    const status = s.status?.()
    expect(status?.done).toBe(true)
    expect(status?.done && status.reason).toBe('exhausted')
    expect(status?.done && status.message).toMatch(/Space exhausted/)
  })

  it('resumes mid-enumeration with the same remaining order', async () => {
    const space = defineSpace('s', { a: categorical([1, 2, 3, 4, 5]), b: categorical(['x', 'y']) })
    const a = createStrategy(randomStrategy, { space, seed: 1, options: { maxRejections: 1 } })
    await a.ask(7)
    const b = createStrategy(randomStrategy, { space, seed: 1, options: { maxRejections: 1 } })
    b.restore(JSON.parse(JSON.stringify(a.state())))
    const ha = new StrategyHarness(a, space)
    const hb = new StrategyHarness(b, space)
    expect(await hb.round(5)).toEqual(await ha.round(5))
  })

  it('rejects a foreign checkpoint with E_BAD_STATE', () => {
    const s = createStrategy(randomStrategy, { space: nb201Space() })
    try {
      s.restore({ version: 9 })
      expect.unreachable()
    } catch (e) {
      expect(isNaskitError(e, 'E_BAD_STATE')).toBe(true)
    }
  })

  it('validates its options', () => {
    expect(() =>
      createStrategy(randomStrategy, { space: nb201Space(), options: { maxRejections: 0 } }),
    ).toThrow(/maxRejections: must be ≥ 1/)
  })
})

describe('simpleSearch', () => {
  it('runs a seeded search, records failures and finds the best', async () => {
    const space = nb201Space()
    const evaluator = {
      name: 'convs',
      evaluate(arch: { cell: { nodes: Array<{ ops: string[] }> } }) {
        const ops = arch.cell.nodes.flatMap((n) => n.ops)
        if (ops.every((o) => o === 'none')) throw new Error('disconnected')
        return { objective: ops.filter((o) => o === 'nor_conv_3x3').length, convs: ops.length }
      },
    }
    const run = () =>
      simpleSearch({
        space,
        strategy: randomStrategy,
        evaluator: evaluator as never,
        trials: 30,
        seed: 5,
        batchSize: 4,
      })
    const a = await run()
    const b = await run()
    expect(a.trials).toHaveLength(30)
    expect(a.trials.map((t) => t.key)).toEqual(b.trials.map((t) => t.key))
    expect(new Set(a.trials.map((t) => t.key)).size).toBe(30)
    const best = Math.max(...a.trials.map((t) => t.objective ?? -1))
    expect(a.best?.objective).toBe(best)
  })

  it('stops when a small space is exhausted', async () => {
    const space = defineSpace('tiny', { a: categorical([1, 2, 3]) })
    const r = await simpleSearch({
      space,
      strategy: randomStrategy,
      evaluator: { name: 'id', evaluate: (a) => ({ objective: a.a as number }) },
      trials: 10,
    })
    expect(r.trials).toHaveLength(3)
    expect(r.status.done).toBe(true)
    expect(r.best?.objective).toBe(3)
  })
})

describe('toTrialResult', () => {
  const base = { id: 1, arch: {}, key: 'k' }
  it('turns thrown errors into failed trials with their code', () => {
    const r = toTrialResult({
      ...base,
      outcome: { error: Object.assign(new Error('boom'), { code: 'E_DIVERGED' }) },
    })
    expect(r).toMatchObject({
      status: 'failed',
      objective: null,
      error: { code: 'E_DIVERGED', message: 'boom' },
    })
  })
  it('fails a NaN objective with E_BAD_METRICS', () => {
    const r = toTrialResult({ ...base, outcome: { metrics: { objective: Number.NaN, params: 3 } } })
    expect(r).toMatchObject({
      status: 'failed',
      objective: null,
      error: { code: 'E_BAD_METRICS' },
      metrics: { params: 3 },
    })
  })
  it('keeps ok metrics', () => {
    expect(toTrialResult({ ...base, outcome: { metrics: { objective: 0.5 } } })).toMatchObject({
      status: 'ok',
      objective: 0.5,
    })
  })
})
