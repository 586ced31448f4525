import { defineSpace, int, nb201Space, simpleSearch } from '@naskit/core'
import { describe, expect, it } from 'vitest'
import { hillclimbStrategy, strategies } from '../src/index'

describe('hillclimb', () => {
  it('exports itself as default and in `strategies`', () => {
    expect(strategies).toContain(hillclimbStrategy)
    expect(hillclimbStrategy.name).toBe('hillclimb')
  })

  it('climbs a smooth objective to its optimum', async () => {
    const space = defineSpace('grid', { x: int(0, 30), y: int(0, 30) })
    const result = await simpleSearch({
      space,
      strategy: hillclimbStrategy,
      strategyOptions: { initialSamples: 1 },
      evaluator: {
        name: 'bowl',
        evaluate: (arch) => ({
          objective: -((Number(arch.x) - 21) ** 2) - (Number(arch.y) - 7) ** 2,
        }),
      },
      trials: 200,
      seed: 4,
    })
    expect(result.best?.arch).toEqual({ x: 21, y: 7 })
  })

  it('beats its own random phase on NAS-Bench-201 with a synthetic objective', async () => {
    const space = nb201Space()
    const convs = (arch: Record<string, unknown>) =>
      JSON.stringify(arch).split('nor_conv_3x3').length - 1
    const result = await simpleSearch({
      space,
      strategy: hillclimbStrategy,
      evaluator: { name: 'convs', evaluate: (arch) => ({ objective: convs(arch) }) },
      trials: 120,
      seed: 9,
    })
    expect(result.best?.objective).toBe(6)
  })
})
