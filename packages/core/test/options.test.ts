import { describe, expect, it } from 'vitest'
import {
  defineOptions,
  describeOptions,
  isNaskitError,
  option,
  validateOptions,
} from '../src/index'

const schema = defineOptions({
  populationSize: option.int({ default: 20, min: 2, description: 'population size P' }),
  lr: option.number({ default: 0.01, min: 0, max: 1, description: 'learning rate' }),
  controller: option.enum(['lstm', 'independent'], { default: 'lstm', description: 'policy' }),
  verbose: option.boolean({ default: false, description: 'log more' }),
  extra: option.json<{ a: number }>({ description: 'anything', default: { a: 1 } }),
})

describe('validateOptions', () => {
  it('fills defaults and keeps given values', () => {
    const o = validateOptions(schema, { lr: 0.5 })
    expect(o).toEqual({
      populationSize: 20,
      lr: 0.5,
      controller: 'lstm',
      verbose: false,
      extra: { a: 1 },
    })
    const typed: 'lstm' | 'independent' = o.controller
    expect(typed).toBe('lstm')
  })

  it('does not share default objects between calls', () => {
    const a = validateOptions(schema, {})
    a.extra.a = 5
    expect(validateOptions(schema, {}).extra.a).toBe(1)
  })

  it('reports every problem with its option name and E_BAD_OPTIONS', () => {
    try {
      validateOptions(
        schema,
        { populationSize: 1.5, lr: 2, controller: 'gru', verbose: 'yes', typo: 1 },
        'options of strategy "x"',
      )
      expect.unreachable()
    } catch (e) {
      expect(isNaskitError(e, 'E_BAD_OPTIONS')).toBe(true)
      const m = (e as Error).message
      expect(m).toMatch(/Invalid options of strategy "x"/)
      expect(m).toMatch(/populationSize: must be an integer, got 1.5/)
      expect(m).toMatch(/lr: must be ≤ 1, got 2/)
      expect(m).toMatch(/controller: must be one of lstm, independent, got "gru"/)
      expect(m).toMatch(/verbose: must be true or false/)
      expect(m).toMatch(
        /typo: unknown option \(known: populationSize, lr, controller, verbose, extra\)/,
      )
    }
  })

  it('rejects a non-object', () => {
    expect(() => validateOptions(schema, 5)).toThrow(/expected an object of options/)
  })

  it('describes options for help texts', () => {
    const rows = describeOptions(schema)
    expect(rows.map((r) => r.name)).toEqual([
      'populationSize',
      'lr',
      'controller',
      'verbose',
      'extra',
    ])
    expect(rows[0]).toEqual({
      name: 'populationSize',
      type: 'int [2, ∞]',
      default: '20',
      description: 'population size P',
    })
    expect(rows[2]?.type).toBe('lstm | independent')
  })
})
