import {
  createStrategy,
  hashString,
  nb201Space,
  Rng,
  type SamplingStrategyPlugin,
} from '@naskit/core'
import { describe, expect, it } from 'vitest'
import { ashaStrategy, hyperbandStrategy, successiveHalvingStrategy } from '../src/index'
import { Host, type HostState } from './host'

const space = nb201Space()

interface Case {
  name: string
  plugin: SamplingStrategyPlugin
  options: Record<string, unknown>
}

const cases: Case[] = [
  {
    name: 'successive halving',
    plugin: successiveHalvingStrategy as never,
    options: { rounds: 3 },
  },
  {
    name: 'successive halving, one bracket at a time, evolution',
    plugin: successiveHalvingStrategy as never,
    options: {
      rounds: 0,
      candidates: 12,
      parallelBrackets: false,
      sampler: 'evolution',
      samplerOptions: { populationSize: 6, sampleSize: 3 },
    },
  },
  { name: 'hyperband', plugin: hyperbandStrategy as never, options: { iterations: 2 } },
  {
    name: 'hyperband over evolution',
    plugin: hyperbandStrategy as never,
    options: {
      iterations: 0,
      maxResource: 27,
      sampler: 'evolution',
      samplerOptions: { populationSize: 8, sampleSize: 4 },
    },
  },
  { name: 'asha', plugin: ashaStrategy as never, options: {} },
  {
    name: 'asha, two brackets, over evolution',
    plugin: ashaStrategy as never,
    options: {
      brackets: 2,
      maxResource: 27,
      sampler: 'evolution',
      samplerOptions: { populationSize: 8, sampleSize: 4 },
    },
  },
]

const STEPS = 90

/**
 * Runs a host to the end, snapshotting the strategy and the host at `at` (a step, before or after
 * the asks of that step); returns the log of the run and the snapshot.
 */
async function runWithSnapshot(c: Case, at: { step: number; afterAsk: boolean }) {
  const host = new Host(
    createStrategy(c.plugin, { space, options: c.options, seed: 5 }),
    space,
    4,
    9,
  )
  let snap: { strategy: string; host: HostState; logged: number } | null = null
  let steps = 0
  const take = () => {
    snap = {
      strategy: JSON.stringify(host.strategy.state()),
      host: host.state(),
      logged: host.log.length,
    }
  }
  for (let step = 0; step < STEPS; step++) {
    if (host.strategy.status?.().done) break
    if (step === at.step && !at.afterAsk) take()
    await host.fill()
    if (step === at.step && at.afterAsk) take()
    if (host.running.length === 0) break
    await host.finish()
    steps++
  }
  return {
    host,
    steps,
    snap: snap as unknown as { strategy: string; host: HostState; logged: number } | null,
  }
}

async function resume(c: Case, snap: { strategy: string; host: HostState }, steps: number) {
  const strategy = createStrategy(c.plugin, { space, options: c.options, seed: 5 })
  strategy.restore(JSON.parse(snap.strategy))
  const host = new Host(strategy, space, 4, 9)
  host.restore(snap.host)
  // as a host does after a crash: the trials that were running are run again, then the loop goes on
  for (let step = 0; step < steps; step++) {
    if (host.strategy.status?.().done) break
    await host.fill()
    if (host.running.length === 0) break
    await host.finish()
  }
  return host
}

describe('state() and restore()', () => {
  for (const c of cases) {
    it(`continues to exactly the trials of an uninterrupted run: ${c.name}`, async () => {
      const pick = new Rng(hashString(c.name))
      const { steps } = await runWithSnapshot(c, { step: -1, afterAsk: false })
      expect(steps).toBeGreaterThan(10)
      for (let trial = 0; trial < 3; trial++) {
        const at = { step: 1 + pick.int(steps - 3), afterAsk: pick.int(2) === 0 }
        const { host: full, snap } = await runWithSnapshot(c, at)
        if (!snap) throw new Error('no snapshot taken')
        const resumed = await resume(c, snap, STEPS)
        const expected = full.log.slice(snap.logged)
        expect(resumed.log.length).toBeGreaterThan(0)
        // the uninterrupted run stopped after STEPS steps; compare what both asked
        const n = Math.min(expected.length, resumed.log.length)
        expect(n).toBeGreaterThan(0)
        expect(resumed.log.slice(0, n)).toEqual(expected.slice(0, n))
        expect(full.log.some((t) => t.continueFrom !== undefined)).toBe(true)
      }
    })
  }

  it('rejects a checkpoint of another strategy or other rungs', () => {
    const a = createStrategy(hyperbandStrategy, { space, seed: 1 })
    const b = createStrategy(ashaStrategy, { space, seed: 1 })
    expect(() => b.restore(a.state())).toThrow(/E_BAD_STATE|asha/)
    const c = createStrategy(hyperbandStrategy, { space, seed: 1, options: { maxResource: 27 } })
    expect(() => c.restore(a.state())).toThrow(/other rungs/)
    expect(() => c.restore({ version: 2 })).toThrow(/version-1/)
  })
})
