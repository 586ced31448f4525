import {
  type Arch,
  createStrategy,
  nb201Space,
  type SamplingStrategy,
  type SamplingStrategyPlugin,
  type TrialResult,
} from '@naskit/core'
import { describe, expect, it } from 'vitest'
import { bananasStrategy, boStrategy } from '../src/index'

const space = nb201Space()
const score = (a: Arch) => {
  const s = JSON.stringify(a)
  return s.split('nor_conv_3x3').length + s.split('skip').length / 10 - s.split('none').length / 3
}

async function round(s: SamplingStrategy, batch: number, id: { next: number }): Promise<string[]> {
  const ps = await s.ask(batch)
  const results: TrialResult[] = ps.map((p, i) => {
    const key = space.key(p.arch)
    // every fifth result fails, so failed trials are part of the state
    if ((id.next + i) % 5 === 4)
      return {
        id: id.next + i,
        arch: p.arch,
        key,
        status: 'failed' as const,
        objective: null,
        metrics: {} as TrialResult['metrics'],
        error: { code: 'E_TEST', message: 'crashed' },
      }
    const objective = score(p.arch)
    return {
      id: id.next + i,
      arch: p.arch,
      key,
      status: 'ok' as const,
      objective,
      metrics: { objective } as TrialResult['metrics'],
    }
  })
  id.next += ps.length
  // one result of each batch stays pending until the next round
  await s.tell(results.slice(1).reverse())
  pending.set(s, [...(pending.get(s) ?? []), ...results.slice(0, 1)])
  const late = pending.get(s) ?? []
  if (late.length > 1) {
    await s.tell(late.slice(0, -1))
    pending.set(s, late.slice(-1))
  }
  return ps.map((p) => space.key(p.arch))
}
const pending = new Map<SamplingStrategy, TrialResult[]>()

describe('state() and restore()', () => {
  const cases: Array<[string, SamplingStrategyPlugin, unknown]> = [
    [
      'bananas',
      bananasStrategy as SamplingStrategyPlugin,
      { epochs: 20, networks: 2, initialSamples: 3 },
    ],
    ['bo', boStrategy as SamplingStrategyPlugin, { initialSamples: 3 }],
    [
      'bananas (model climbs)',
      bananasStrategy as SamplingStrategyPlugin,
      { epochs: 20, networks: 2, initialSamples: 3, modelClimbs: 3 },
    ],
    [
      'bo (log, its)',
      boStrategy as SamplingStrategyPlugin,
      { initialSamples: 3, transform: 'log', acquisition: 'its' },
    ],
  ]
  for (const [label, plugin, options] of cases) {
    for (const batch of [1, 3]) {
      it(`continues the exact sequence, pending trials included: ${label}, batch ${batch}`, async () => {
        const a = createStrategy(plugin, { space, options, seed: 21 })
        const id = { next: 0 }
        for (let r = 0; r < 16; r++) {
          await round(a, batch, id)
          if (r % 5 !== 4) continue
          const snapshot = JSON.parse(JSON.stringify(a.state()))
          expect(JSON.parse(JSON.stringify(snapshot))).toEqual(a.state())
          // created with another seed: everything comes from the checkpoint
          const b = createStrategy(plugin, { space, options, seed: 99 })
          b.restore(snapshot)
          pending.set(b, [...(pending.get(a) ?? [])])
          const bId = { next: id.next }
          const aId = { next: id.next }
          const aCopy = a
          for (let k = 0; k < 3; k++)
            expect(await round(b, batch, bId)).toEqual(await round(aCopy, batch, aId))
          id.next = aId.next
        }
      })
    }
  }

  it('rejects a checkpoint of another strategy with E_BAD_STATE', () => {
    const s = createStrategy(boStrategy, { space, seed: 1 })
    expect(() => s.restore({ version: 1, population: [] })).toThrow(
      expect.objectContaining({ code: 'E_BAD_STATE' }),
    )
    expect(() => s.restore(null)).toThrow(/not a version-1 bo state/)
  })
})
