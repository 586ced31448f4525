import {
  type Arch,
  createStrategy,
  nb201Space,
  type SamplingStrategy,
  type SamplingStrategyPlugin,
  type TrialResult,
} from '@naskit/core'
import { describe, expect, it } from 'vitest'
import { evolutionStrategy, localSearchStrategy } from '../src/index'

const space = nb201Space()
/** Smooth: many children of the same parents, so neighbourhoods fill up. */
const score = (a: Arch) =>
  JSON.stringify(a).split('nor_conv_3x3').length + JSON.stringify(a).split('skip').length / 10

async function round(s: SamplingStrategy, batch: number, id: { next: number }): Promise<string[]> {
  const ps = await s.ask(batch)
  const results: TrialResult[] = ps.map((p) => {
    const key = space.key(p.arch)
    const objective = score(p.arch)
    return { id: id.next++, arch: p.arch, key, status: 'ok', objective, metrics: { objective } }
  })
  await s.tell(results.reverse())
  return ps.map((p) => space.key(p.arch))
}

describe('state() and restore()', () => {
  const cases: Array<[string, SamplingStrategyPlugin, unknown]> = [
    [
      'evolution',
      evolutionStrategy as SamplingStrategyPlugin,
      { populationSize: 6, sampleSize: 6 },
    ],
    ['evolution (defaults)', evolutionStrategy as SamplingStrategyPlugin, undefined],
    ['local-search (first)', localSearchStrategy as SamplingStrategyPlugin, { initialSamples: 3 }],
    [
      'local-search (best)',
      localSearchStrategy as SamplingStrategyPlugin,
      { initialSamples: 3, improvement: 'best' },
    ],
  ]
  for (const [label, plugin, options] of cases) {
    for (const batch of [1, 3]) {
      it(`continues the exact sequence at any point: ${label}, batch ${batch}`, async () => {
        const a = createStrategy(plugin, { space, options, seed: 21 })
        const id = { next: 0 }
        for (let r = 0; r < 150; r++) {
          await round(a, batch, id)
          if (r % 37 !== 36) continue
          const b = createStrategy(plugin, { space, options, seed: 99 })
          b.restore(JSON.parse(JSON.stringify(a.state())))
          const bId = { next: id.next }
          // the restored copy asks exactly what the original asks next
          for (let k = 0; k < 30; k++)
            expect(await round(b, batch, bId)).toEqual(await round(a, batch, id))
        }
      })
    }
  }
})
