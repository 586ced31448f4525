import { loadStrategy } from '@naskit/core/node'
import { describe, expect, it } from 'vitest'
import {
  ashaStrategy,
  hyperbandStrategy,
  strategies,
  successiveHalvingStrategy,
} from '../src/index'
import plugin from '../src/index'

describe('short names', () => {
  it('--strategy successive-halving, hyperband and asha load this package', async () => {
    const dir = new URL('..', import.meta.url).pathname
    for (const [name, expected] of [
      ['successive-halving', successiveHalvingStrategy],
      ['hyperband', hyperbandStrategy],
      ['asha', ashaStrategy],
    ] as const) {
      const loaded = await loadStrategy(name, dir)
      expect(loaded.plugin.name).toBe(expected.name)
      expect(loaded.ref?.packageName).toBe('@naskit/strategy-multi-fidelity')
    }
  })

  it('exports every plugin in `strategies`, Hyperband by default', () => {
    expect(strategies.map((s) => s.name)).toEqual(['successive-halving', 'hyperband', 'asha'])
    expect(plugin).toBe(hyperbandStrategy)
  })
})
