import { randomStrategy } from '@naskit/core'
import { describe, expect, it } from 'vitest'
import { loadNb201Table, runNb201Suite } from '../src/index'
import { NB201_CSV } from './helpers'

describe('calibration', () => {
  it('gives random search the published figure on cifar10 (100 queries × 100 seeds)', async () => {
    const result = await runNb201Suite({
      table: loadNb201Table(NB201_CSV),
      dataset: 'cifar10',
      strategies: [{ plugin: randomStrategy }],
      seeds: 100,
      queries: 100,
    })
    const s = result.summaries[0]
    // expected mean 93.74 ± 0.15; the spread over seeds is close to the paper's ±0.36
    expect(Math.abs((s?.mean as number) - 93.74)).toBeLessThanOrEqual(0.15)
    expect(s?.std).toBeGreaterThan(0.2)
    expect(s?.std).toBeLessThan(0.5)
    expect(s?.regret).toBeGreaterThan(0.4)
  })
})
