import { defineEvaluator, option } from '@naskit/core'
import { describe, expect, it } from 'vitest'
import { oneShotServices } from '../src/one-shot'
import type { StoredConfig } from '../src/types'

const space = { name: 'tiny', decisions: { x: { type: 'categorical', choices: ['a', 'b'] } } }

function config(options: Record<string, unknown>): StoredConfig {
  return {
    space,
    evaluator: { spec: null, name: 'fake', options },
    seed: 5,
    budget: { trials: 3 },
  } as unknown as StoredConfig
}

describe('one-shot services', () => {
  it('give the experiment’s data through the evaluator plugin, its backend, seed and space', async () => {
    const seen: unknown[] = []
    const plugin = defineEvaluator({
      name: 'fake',
      description: 'fake',
      cost: 'expensive',
      options: { backend: option.string({ description: 'backend' }) },
      create: () => ({ name: 'fake', evaluate: () => ({ objective: 1 }) }),
      dataset: async ({ options }) => {
        seen.push(options)
        return { name: 'photos' }
      },
      backend: (options) => options.backend ?? 'auto',
    })
    const services = oneShotServices(config({ backend: 'wasm' }), {
      evaluator: { plugin, spec: null, ref: null },
    })
    expect(services.backend).toBe('wasm')
    expect(services.seed).toBe(5)
    expect(services.space?.name).toBe('tiny')
    expect(services.evaluator).toEqual({ name: 'fake', options: { backend: 'wasm' } })
    expect(seen).toHaveLength(0) // nothing loads until the strategy asks
    const load = services.dataset as () => Promise<unknown>
    expect(await load()).toEqual({ name: 'photos' })
    expect(seen).toEqual([{ backend: 'wasm' }])
  })

  it('leave out what the evaluator cannot give', () => {
    const plugin = defineEvaluator({
      name: 'table',
      description: 'table',
      cost: 'cheap',
      options: {},
      create: () => ({ name: 'table', evaluate: () => ({ objective: 1 }) }),
    })
    const services = oneShotServices(config({}), { evaluator: { plugin, spec: null, ref: null } })
    expect(services.dataset).toBeUndefined()
    expect(services.backend).toBeUndefined()
  })
})
