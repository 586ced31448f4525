import {
  createStrategy,
  nb201FromString,
  nb201Space,
  randomStrategy,
  simpleSearch,
  validateOptions,
  chainSpace,
} from '@naskit/core'
import { describe, expect, it } from 'vitest'
import { evaluators, loadNb201Table, TEST_LEAK_WARNING } from '../src/index'
import { NB201_CSV } from './helpers'

const space = nb201Space()
const make = (options: Record<string, unknown>, warnings: string[] = []) =>
  evaluators.nb201.create({
    options: validateOptions(evaluators.nb201.options, { path: NB201_CSV, ...options }),
    space,
    seed: 0,
    log: { info() {}, warn: (m) => warnings.push(m) },
  })

const best =
  '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|'
const ctx = () => ({
  trialId: 0,
  seed: 0,
  rng: undefined as never,
  signal: new AbortController().signal,
  progress() {},
  space,
})

describe('nb201 evaluator', () => {
  it('is exported under evaluators.nb201 as a cheap evaluator', () => {
    expect(evaluators.nb201.name).toBe('nb201')
    expect(evaluators.nb201.cost).toBe('cheap')
    expect(evaluators.nb201.supports?.(space)).toBe(true)
    expect(evaluators.nb201.supports?.(chainSpace())).toMatch(/nb201/)
  })

  it('reports the 12-epoch validation accuracy as the objective, with test accuracy, params and FLOPs', async () => {
    const e = await make({})
    const m = await e.evaluate(nb201FromString(best), ctx())
    expect(m.cifar10_test).toBe(94.3733)
    // SOURCE.md: 73,306 fixed params, 243,040 per 3x3 conv edge, 28,000 per 1x1 conv edge
    expect(m.params_m).toBeCloseTo((73_306 + 4 * 243_040 + 28_000) / 1e6, 6)
    expect(m.objective).toBe(m.cifar10_valid_12ep)
    expect(typeof m.flops_m).toBe('number')
    expect(m.nb201_arch).toBe(best)
  })

  it('serves each dataset from its own columns', async () => {
    const table = loadNb201Table(NB201_CSV)
    const row = table.rowOf(nb201FromString(best))
    for (const dataset of ['cifar100', 'imagenet16']) {
      const m = await (await make({ dataset })).evaluate(nb201FromString(best), ctx())
      expect(m.objective).toBe(table.column(`${dataset}_valid_12ep`)[row])
      expect(m[`${dataset}_test`]).toBe(table.column(`${dataset}_test`)[row])
    }
  })

  it('uses the test accuracy only when asked, with a leak warning', async () => {
    const quiet: string[] = []
    await make({}, quiet)
    expect(quiet).toEqual([])
    const warnings: string[] = []
    const e = await make({ objective: 'test' }, warnings)
    expect(warnings).toEqual([TEST_LEAK_WARNING])
    expect(warnings[0]).toMatch(/leaks the test set/)
    const m = await e.evaluate(nb201FromString(best), ctx())
    expect(m.objective).toBe(94.3733)
  })

  it('names the offending decision of an invalid architecture', async () => {
    const e = await make({})
    expect(() =>
      e.evaluate({ cell: { nodes: [{ inputs: [0], ops: ['conv_9x9'] }] } }, ctx()),
    ).toThrow(/not in space "nb201"/)
  })

  it('drives a search through simpleSearch', async () => {
    const out = await simpleSearch({
      space,
      strategy: randomStrategy,
      evaluator: await make({}),
      trials: 20,
      seed: 4,
    })
    expect(out.trials).toHaveLength(20)
    expect(out.best?.metrics.cifar10_test).toBeGreaterThan(50)
    expect(createStrategy(randomStrategy, { space })).toBeDefined()
  })
})
