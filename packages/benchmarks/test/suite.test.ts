import {
  type Arch,
  defineStrategy,
  type OneShotStrategyPlugin,
  randomStrategy,
  type SamplingStrategyPlugin,
  type TrialResult,
} from '@naskit/core'
import { describe, expect, it } from 'vitest'
import {
  loadNb201Table,
  resolveStrategy,
  runNb201,
  runNb201Suite,
  statistics,
  suiteJson,
  suiteMarkdown,
  suiteSvg,
} from '../src/index'
import { NB201_CSV } from './helpers'

const table = loadNb201Table(NB201_CSV)

/** Wraps random search and records what it was told. */
function recording(told: TrialResult[]): SamplingStrategyPlugin {
  return defineStrategy({
    name: 'recording',
    kind: 'sampling',
    description: 'random search that records its results',
    options: {},
    create(ctx) {
      const inner = randomStrategy.create({
        ...ctx,
        options: { maxRejections: 64, enumerateLimit: 1_000_000 },
      })
      return {
        ask: (n) => inner.ask(n),
        tell: (results) => {
          told.push(...results)
          return inner.tell(results)
        },
        state: () => inner.state(),
        restore: (s) => inner.restore(s),
      }
    },
  }) as SamplingStrategyPlugin
}

/** Proposes the same architecture every second time. */
const repeating = defineStrategy({
  name: 'repeating',
  kind: 'sampling',
  description: 'asks one architecture again and again, between fresh ones',
  options: {},
  create({ space, rng }) {
    let first: Arch | null = null
    let calls = 0
    const inner = randomStrategy.create({
      space,
      rng,
      seed: 0,
      log: { info() {}, warn() {} },
      options: { maxRejections: 64, enumerateLimit: 1_000_000 },
    })
    return {
      ask(n) {
        calls++
        if (first !== null && calls % 2 === 0) return [{ arch: first }]
        const out = inner.ask(n) as Array<{ arch: Arch }>
        first ??= out[0]?.arch ?? null
        return out
      },
      tell() {},
      state: () => null,
      restore() {},
    }
  },
}) as SamplingStrategyPlugin

const oneShot: OneShotStrategyPlugin = {
  name: 'supernet-like',
  kind: 'one-shot',
  description: 'a one-shot strategy',
  options: {},
  create: () => ({ run: async () => ({ architectures: [] }) }),
}

describe('runNb201', () => {
  it('queries the budget of unique architectures and reports the test accuracy of the best by validation', async () => {
    const told: TrialResult[] = []
    const run = await runNb201({
      table,
      dataset: 'cifar10',
      plugin: recording(told),
      seed: 3,
      queries: 40,
    })
    expect(run.queries).toBe(40)
    expect(new Set(told.map((t) => t.key)).size).toBe(40)
    const best = told.reduce((a, b) => ((b.objective as number) > (a.objective as number) ? b : a))
    expect(run.bestValid).toBe(best.metrics.cifar10_valid_12ep)
    expect(run.result).toBe(best.metrics.cifar10_test)
    expect(run.curve).toHaveLength(40)
    expect(run.curve[39]).toBe(run.result)
    // the strategy sees the validation signal, never the test accuracy, as its objective
    for (const t of told) expect(t.objective).toBe(t.metrics.cifar10_valid_12ep)
  })

  it('answers repeats from the cache without counting them as queries', async () => {
    const run = await runNb201({
      table,
      dataset: 'cifar100',
      plugin: repeating,
      seed: 1,
      queries: 10,
    })
    expect(run.queries).toBe(10)
    expect(run.repeats).toBeGreaterThanOrEqual(9)
  })

  it('stops a strategy that proposes nothing and says why', async () => {
    const idle = defineStrategy({
      name: 'idle',
      kind: 'sampling',
      description: 'proposes one architecture, then nothing',
      options: {},
      create({ space, rng }) {
        let asked = false
        return {
          ask() {
            if (asked) return []
            asked = true
            return [{ arch: space.sample(rng) }]
          },
          tell() {},
          state: () => null,
          restore() {},
        }
      },
    }) as SamplingStrategyPlugin
    const run = await runNb201({ table, dataset: 'cifar10', plugin: idle, seed: 0, queries: 5 })
    expect(run.queries).toBe(1)
    expect(run.stopped).toMatch(/proposed nothing/)
    expect(run.curve).toHaveLength(5)
  })

  it('tells invalid proposals as failed trials', async () => {
    const told: TrialResult[] = []
    const bad = defineStrategy({
      name: 'bad',
      kind: 'sampling',
      description: 'one invalid proposal first',
      options: {},
      create(ctx) {
        const inner = randomStrategy.create({
          ...ctx,
          options: { maxRejections: 64, enumerateLimit: 1_000_000 },
        })
        let first = true
        return {
          ask(n) {
            if (!first) return inner.ask(n)
            first = false
            return [{ arch: { cell: { nodes: [] } } }]
          },
          tell: (r) => void told.push(...r),
          state: () => null,
          restore() {},
        }
      },
    }) as SamplingStrategyPlugin
    const run = await runNb201({ table, dataset: 'cifar10', plugin: bad, seed: 0, queries: 3 })
    expect(run.invalid).toBe(1)
    expect(told[0]).toMatchObject({ status: 'failed', error: { code: 'E_INVALID_ARCH' } })
    expect(run.queries).toBe(3)
  })
})

describe('runNb201Suite', () => {
  it('runs strategies × seeds and summarises them against the optimum', async () => {
    const result = await runNb201Suite({
      table,
      dataset: 'cifar10',
      strategies: [{ plugin: randomStrategy }],
      seeds: 12,
      queries: 30,
    })
    expect(result.runs).toHaveLength(12)
    expect(result.seeds).toEqual([...Array(12).keys()])
    const s = result.summaries[0]
    const stats = statistics(result.runs.map((r) => r.result))
    expect(s?.mean).toBeCloseTo(stats.mean, 10)
    expect(s?.regret).toBeCloseTo(94.3733 - stats.mean, 10)
    expect(s?.curve).toHaveLength(30)
    expect(s?.curve[29]).toBeCloseTo(stats.mean, 10)
    expect(result.optimum.value).toBe(94.3733)
  })

  it('is deterministic for the same seeds, with parallel asks too', async () => {
    const a = await runNb201Suite({
      table,
      strategies: [{ plugin: randomStrategy }],
      seeds: [5, 6, 7],
      queries: 20,
      batch: 4,
    })
    const b = await runNb201Suite({
      table,
      strategies: [{ plugin: randomStrategy }],
      seeds: [5, 6, 7],
      queries: 20,
      batch: 4,
    })
    expect(a.runs.map((r) => r.result)).toEqual(b.runs.map((r) => r.result))
    expect(a.runs.every((r) => r.queries === 20)).toBe(true)
    const c = await runNb201Suite({
      table,
      strategies: [{ plugin: randomStrategy }],
      seeds: [8, 9, 10],
      queries: 20,
    })
    expect(c.runs.map((r) => r.bestArch)).not.toEqual(a.runs.map((r) => r.bestArch))
  })

  it('spreads runs over worker threads with the same results', async () => {
    const evolution = await resolveStrategy('evolution')
    const strategies = [
      { plugin: randomStrategy, spec: 'random' },
      { plugin: evolution, spec: 'evolution', options: { populationSize: 5, sampleSize: 3 } },
    ]
    const threaded = await runNb201Suite({ table, strategies, seeds: 3, queries: 25, workers: 2 })
    expect(threaded.workers).toBe(2)
    const inProcess = await runNb201Suite({ table, strategies, seeds: 3, queries: 25 })
    expect(inProcess.workers).toBe(1)
    expect(threaded.runs.map((r) => [r.strategy, r.seed, r.result, r.bestArch])).toEqual(
      inProcess.runs.map((r) => [r.strategy, r.seed, r.result, r.bestArch]),
    )
  }, 60_000)

  it('reports a strategy error from a worker', async () => {
    const strategies = [{ plugin: randomStrategy, spec: 'random', options: { nope: 1 } }]
    await expect(
      runNb201Suite({ table, strategies, seeds: 2, queries: 5, workers: 2 }),
    ).rejects.toThrow(/nope: unknown option/)
  }, 60_000)

  it('leaves one-shot strategies out with the reason', async () => {
    const result = await runNb201Suite({
      table,
      strategies: [{ plugin: randomStrategy }, { plugin: oneShot }],
      seeds: 2,
      queries: 5,
    })
    expect(result.summaries.map((s) => s.strategy)).toEqual(['random'])
    expect(result.skipped).toEqual([
      {
        strategy: 'supernet-like',
        reason: expect.stringMatching(/one-shot strategy.*lookup table/),
      },
    ])
    expect(suiteMarkdown(result)).toMatch(/skipped supernet-like/)
  })

  it('leaves out strategies that do not support the nb201 space', async () => {
    const picky = {
      ...randomStrategy,
      name: 'picky',
      supports: () => 'only chain spaces',
    } as SamplingStrategyPlugin
    const result = await runNb201Suite({
      table,
      strategies: [{ plugin: picky }, { plugin: randomStrategy }],
      seeds: 2,
      queries: 5,
    })
    expect(result.summaries.map((s) => s.strategy)).toEqual(['random'])
    expect(result.skipped).toEqual([
      { strategy: 'picky', reason: '"picky" does not support the nb201 space: only chain spaces' },
    ])
  })

  it('rejects bad settings with clear errors', async () => {
    await expect(
      runNb201Suite({ table, strategies: [{ plugin: randomStrategy }], queries: 0 }),
    ).rejects.toThrow(/queries must be an integer/)
    await expect(
      runNb201Suite({ table, strategies: [{ plugin: randomStrategy }], seeds: [] }),
    ).rejects.toThrow(/seeds/)
    await expect(
      runNb201Suite({ table, strategies: [{ plugin: randomStrategy }], dataset: 'mnist' as never }),
    ).rejects.toThrow(/cifar10, cifar100, imagenet16/)
    await expect(
      runNb201Suite({
        table,
        strategies: [{ plugin: randomStrategy }, { plugin: randomStrategy }],
      }),
    ).rejects.toThrow(/listed twice/)
  })
})

describe('reports', () => {
  it('writes markdown with the published reference rows, an SVG of the curves, and JSON of every run', async () => {
    const result = await runNb201Suite({
      table,
      dataset: 'cifar100',
      strategies: [
        { plugin: randomStrategy },
        { label: 'random-b', plugin: randomStrategy, options: { maxRejections: 8 } },
      ],
      seeds: 4,
      queries: 60,
    })
    const md = suiteMarkdown(result)
    expect(md).toMatch(/CIFAR-100 · 60 queries × 4 seeds/)
    expect(md).toMatch(/\| random \| \d+\.\d\d ± \d+\.\d\d \|/)
    expect(md).toMatch(/REINFORCE \(NAS-Bench-201 paper\)\* \| 71\.71 ± 1\.09/)
    expect(md).toMatch(/optimum \(NAS-Bench-201 paper\)\* \| 73\.51/)
    expect(md).toMatch(/@10 \| @25 \| @50 \| @60/)
    const svg = suiteSvg(result)
    expect(svg.startsWith('<svg')).toBe(true)
    expect(svg.match(/<polyline/g)).toHaveLength(2)
    expect(svg).toMatch(/random-b/)
    const json = JSON.parse(suiteJson(result))
    expect(json.runs).toHaveLength(8)
    expect(json.runs[0].curve).toHaveLength(60)
  })
})
