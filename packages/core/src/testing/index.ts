import { describe, expect, it } from 'vitest'
import {
  createStrategy,
  type SamplingStrategy,
  type SamplingStrategyPlugin,
  type StrategyPlugin,
  type TrialResult,
} from '../contracts'
import { hashString } from '../rng'
import { chainSpace } from '../spaces/chain'
import { dartsSpace } from '../spaces/darts'
import { nasnetSpace } from '../spaces/nasnet'
import { nb201Space } from '../spaces/nb201'
import { categorical } from '../space/dsl'
import { defineSpace, type SearchSpace } from '../space/space'
import type { Arch } from '../space/types'

/** Options of {@link strategyContract}. */
export interface StrategyContractOptions {
  /** Options passed to the plugin in every test. */
  options?: unknown
  /** Spaces to test on. @default the built-in spaces the plugin supports (nb201, chain, nasnet, darts) */
  spaces?: SearchSpace[]
  /** Candidates per ask. @default 4 */
  batch?: number
  /** Ask/tell rounds per run. @default 6 */
  rounds?: number
  /** The strategy never proposes an architecture twice while unseen ones remain. @default true */
  noRepeats?: boolean
  /** Per-test timeout in ms. @default 30000 */
  timeout?: number
}

/** A deterministic stand-in objective in [0, 1) derived from the architecture key. */
export function syntheticObjective(key: string): number {
  return (hashString(key) % 100_000) / 100_000
}

/** Deterministic failures: about one architecture in seven fails. */
export function syntheticFailure(key: string): boolean {
  return hashString(`fail:${key}`) % 7 === 0
}

/** Drives an ask/tell strategy against the synthetic objective, as a host would. */
export class StrategyHarness {
  nextId = 0
  readonly asked: string[] = []

  constructor(
    readonly strategy: SamplingStrategy,
    readonly space: SearchSpace,
  ) {}

  /** Turns proposals into results; `nan` makes ok trials report a NaN objective. */
  evaluate(
    proposals: Array<{ arch: Arch; meta?: unknown }>,
    mode: { failures?: boolean; nan?: boolean } = {},
  ): TrialResult[] {
    return proposals.map((p): TrialResult => {
      const arch = this.space.validate(p.arch)
      const key = this.space.key(arch)
      const id = this.nextId++
      const base = {
        id,
        arch,
        key,
        ...(p.meta === undefined ? {} : { meta: p.meta as TrialResult['meta'] }),
      }
      if (mode.failures !== false && syntheticFailure(key)) {
        return {
          ...base,
          status: 'failed',
          objective: null,
          metrics: {},
          error: { code: 'E_TEST', message: 'synthetic failure' },
        }
      }
      const objective = mode.nan ? Number.NaN : syntheticObjective(key)
      return { ...base, status: 'ok', objective, metrics: { objective } }
    })
  }

  /** One round: ask `n`, evaluate, tell in reverse order. Returns the keys asked. */
  async round(
    n: number,
    mode: { failures?: boolean; nan?: boolean; reverse?: boolean } = {},
  ): Promise<string[]> {
    const proposals = await this.strategy.ask(n)
    const results = this.evaluate(proposals, mode)
    const keys = results.map((r) => r.key)
    this.asked.push(...keys)
    await this.strategy.tell(mode.reverse === false ? results : [...results].reverse())
    return keys
  }
}

const builtInSpaces = (): SearchSpace[] => [
  nb201Space(),
  chainSpace({ resolution: { low: 16, high: 32, step: 8 } }),
  nasnetSpace(),
  dartsSpace(),
]

/**
 * Registers the vitest suite that every sampling strategy must pass: valid asks on every
 * supported built-in space, out-of-order and failed results, `state()`/`restore()`
 * continuing the exact sequence, determinism for a seed, NaN objectives, and clean
 * exhaustion of a tiny space. Call it at the top level of a test file.
 */
export function strategyContract(plugin: StrategyPlugin, opts: StrategyContractOptions = {}): void {
  const batch = opts.batch ?? 4
  const rounds = opts.rounds ?? 6
  const timeout = opts.timeout ?? 30_000

  describe(`strategy contract: ${plugin.name}`, () => {
    it('is a well-formed sampling plugin', () => {
      expect(typeof plugin.name).toBe('string')
      expect(plugin.name.length).toBeGreaterThan(0)
      expect(typeof plugin.description).toBe('string')
      expect(plugin.kind).toBe('sampling')
      expect(typeof plugin.create).toBe('function')
      for (const [name, spec] of Object.entries(plugin.options)) {
        expect(typeof spec.description, `option ${name} has a description`).toBe('string')
      }
    })
    if (plugin.kind !== 'sampling') return
    const sampling = plugin as SamplingStrategyPlugin
    const make = (space: SearchSpace, seed: number) =>
      createStrategy(sampling, { space, options: opts.options, seed })
    const spaces = (opts.spaces ?? builtInSpaces()).filter((s) =>
      sampling.supports ? sampling.supports(s) === true : true,
    )

    it('supports at least one of the spaces under test', () => {
      expect(spaces.length).toBeGreaterThan(0)
    })

    for (const space of spaces) {
      describe(`on space ${space.name}`, () => {
        it(
          'asks valid architectures, and no more than asked for',
          async () => {
            const h = new StrategyHarness(make(space, 1), space)
            for (const n of [1, batch, 3, batch]) {
              const proposals = await h.strategy.ask(n)
              expect(proposals.length).toBeLessThanOrEqual(n)
              for (const p of proposals) expect(() => space.validate(p.arch)).not.toThrow()
              await h.strategy.tell(h.evaluate(proposals))
            }
            expect(h.nextId).toBeGreaterThan(0)
          },
          timeout,
        )

        it(
          'accepts results out of order, failed ones, and several asks before a tell',
          async () => {
            const h = new StrategyHarness(make(space, 2), space)
            const first = await h.strategy.ask(batch)
            const second = await h.strategy.ask(batch)
            const results = h.evaluate([...first, ...second])
            results[0] = {
              ...(results[0] as TrialResult),
              status: 'failed',
              objective: null,
              metrics: {},
              error: { code: 'E_TEST', message: 'crashed' },
            }
            await h.strategy.tell(results.slice(batch).reverse())
            await h.strategy.tell(results.slice(0, batch))
            for (let r = 0; r < rounds; r++) {
              const keys = await h.round(batch)
              for (const k of keys) expect(typeof k).toBe('string')
            }
          },
          timeout,
        )

        it(
          'gives the same sequence for the same seed',
          async () => {
            const a = new StrategyHarness(make(space, 7), space)
            const b = new StrategyHarness(make(space, 7), space)
            for (let r = 0; r < rounds; r++) {
              expect(await b.round(batch)).toEqual(await a.round(batch))
            }
            expect(a.asked.length).toBeGreaterThan(0)
          },
          timeout,
        )

        it(
          'continues the exact sequence after state() and restore() in a fresh instance',
          async () => {
            const a = new StrategyHarness(make(space, 11), space)
            for (let r = 0; r < rounds; r++) await a.round(batch)
            const snapshot = JSON.parse(JSON.stringify(a.strategy.state()))
            const b = new StrategyHarness(make(space, 11), space)
            b.strategy.restore(snapshot)
            b.nextId = a.nextId
            for (let r = 0; r < rounds; r++) {
              expect(await b.round(batch)).toEqual(await a.round(batch))
            }
          },
          timeout,
        )

        it(
          'does not crash on NaN objectives',
          async () => {
            const h = new StrategyHarness(make(space, 3), space)
            for (let r = 0; r < rounds; r++) await h.round(batch, { nan: r % 2 === 0 })
            const proposals = await h.strategy.ask(batch)
            for (const p of proposals) expect(space.isValid(p.arch)).toBe(true)
          },
          timeout,
        )
      })
    }

    it(
      'ends cleanly on a tiny space',
      async () => {
        const tiny = defineSpace('tiny', {
          a: categorical(['x', 'y', 'z']),
          b: categorical([1, 2]),
        })
        if (sampling.supports && sampling.supports(tiny) !== true) return
        const h = new StrategyHarness(make(tiny, 5), tiny)
        let ended = false
        for (let r = 0; r < 60 && !ended; r++) {
          const keys = await h.round(2)
          const status = h.strategy.status?.() ?? { done: false }
          if (status.done || keys.length === 0) ended = true
        }
        expect(ended, 'the strategy reports done or stops proposing').toBe(true)
        expect(new Set(h.asked).size).toBeLessThanOrEqual(6)
        if (opts.noRepeats !== false) expect(new Set(h.asked).size).toBe(h.asked.length)
      },
      timeout,
    )
  })
}
