import { join } from 'node:path'
import { defineEvaluator } from '@naskit/core'
import { describe, expect, it } from 'vitest'
import { runExperiment } from '../src/index'
import { trialEpochs } from '../src/experiment'
import { tmp } from './helpers'

const twoEpochs = defineEvaluator({
  name: 'two-epochs',
  description: 'reports 2 training epochs per trial',
  cost: 'cheap',
  options: {},
  create: () => ({
    name: 'two-epochs',
    evaluate: (arch: unknown) => ({ objective: JSON.stringify(arch).length % 7, epochs: 2 }),
  }),
})

describe('budget.epochs', () => {
  it('stops once the finished trials spent the training epochs, and resumes with the count', async () => {
    const out = join(tmp(), 'exp')
    const r = await runExperiment({
      config: { space: 'nb201', evaluator: twoEpochs, budget: { epochs: 7 }, seed: 1 },
      out,
    })
    expect(r.status).toBe('completed')
    expect(r.trials).toHaveLength(4) // 2 + 2 + 2 < 7 ≤ 2 + 2 + 2 + 2
    expect(r.message).toMatch(/Spent the budget of 7 training epochs \(8 in 4 trials\)/)
    const more = await runExperiment({
      config: { space: 'nb201', evaluator: twoEpochs, budget: { epochs: 11 }, seed: 1 },
      out,
    })
    expect(more.trials).toHaveLength(6)
  })

  it('counts the epochs metric, else the fidelity, else nothing', () => {
    expect(trialEpochs({ metrics: { epochs: 3 }, fidelity: { epochs: 9 } })).toBe(3)
    expect(trialEpochs({ metrics: {}, fidelity: { epochs: 9 } })).toBe(9)
    expect(trialEpochs({ metrics: { epochs: 'x' as never } })).toBe(0)
  })

  it('refuses a budget.epochs that is not a positive number', async () => {
    await expect(
      runExperiment({
        config: { space: 'nb201', evaluator: twoEpochs, budget: { epochs: -1 } },
        out: join(tmp(), 'bad'),
      }),
    ).rejects.toMatchObject({
      code: 'E_BAD_CONFIG',
      message: expect.stringContaining('budget.epochs'),
    })
  })
})
