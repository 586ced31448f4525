import { createStrategy, nb201Space } from '@naskit/core'
import { describe, expect, it } from 'vitest'
import {
  formatRungs,
  type RungTrial,
  hyperbandStrategy,
  rungMeta,
  successiveHalvingStrategy,
  summarizeRungs,
} from '../src/index'
import { Host } from './host'

const space = nb201Space()

describe('summarizeRungs', () => {
  it('counts each rung, its fidelity, and which trials were promoted', async () => {
    const host = new Host(
      createStrategy(successiveHalvingStrategy, { space, seed: 1 }),
      space,
      3,
      2,
    )
    await host.run(100)
    const summary = summarizeRungs(host.results)
    expect(summary).not.toBeNull()
    if (!summary) return
    expect(summary.method).toBe('successive-halving')
    expect(summary.rungs.map((r) => [r.rung, r.fidelity, r.trained, r.promoted.length])).toEqual([
      [0, { epochs: 1 }, 9, 3],
      [1, { epochs: 3 }, 3, 1],
      [2, { epochs: 9 }, 1, 0],
    ])
    // the promoted trials are the ones the next rung continues
    const continued = host.log
      .filter((t) => t.continueFrom !== undefined)
      .map((t) => t.continueFrom)
    expect([...summary.rungs.flatMap((r) => r.promoted)].sort()).toEqual([...continued].sort())
    expect(summary.epochs).toEqual({ fromScratch: 9 + 9 + 9, continued: 9 + 3 * 2 + 6 })
    const top = host.results.find((t) => rungMeta(t.meta)?.rung === 2)
    expect(summary.incumbent).toEqual({ id: top?.id, objective: top?.objective, rung: 2 })
    expect(formatRungs(summary)).toBe('rung 0 (1 ep) 9 → 3 · rung 1 (3 ep) 3 → 1 · rung 2 (9 ep) 1')
  })

  it('splits by bracket, shows running trials, and ignores trials of other strategies', async () => {
    const host = new Host(createStrategy(hyperbandStrategy, { space, seed: 1 }), space, 4, 3)
    await host.run(100)
    const trials: RungTrial[] = [
      ...host.results,
      { id: 1000, status: 'ok', objective: 1, meta: { other: true } },
      {
        id: 1001,
        status: 'failed',
        objective: null,
        state: 'running',
        meta: { multiFidelity: 'hyperband', bracket: 2, rung: 2 },
        fidelity: { epochs: 9 },
      },
    ]
    const summary = summarizeRungs(trials)
    if (!summary) throw new Error('no summary')
    expect(summary.brackets.map((b) => b.rungs.map((r) => r.trained))).toEqual([
      [9, 3, 1],
      [5, 1],
      [4],
    ])
    expect(summary.rungs[2]?.running).toBe(1)
    expect(formatRungs(summary)).toMatch(/rung 2 \(9 ep\) 5 \+1 running$/)
    expect(summarizeRungs([{ id: 1, status: 'ok', objective: 1 }])).toBeNull()
  })

  it('reads the rung meta, and nothing else', () => {
    expect(rungMeta({ multiFidelity: 'asha', bracket: 0, rung: 1, promotedFrom: 4 })).toEqual({
      multiFidelity: 'asha',
      bracket: 0,
      rung: 1,
      promotedFrom: 4,
    })
    expect(rungMeta({ multiFidelity: 'bohb', bracket: 0, rung: 1 })).toBeNull()
    expect(rungMeta(null)).toBeNull()
    expect(rungMeta({ decisions: [1, 2] })).toBeNull()
  })
})
