import {
  assertStrategyPlugin,
  chainSpace,
  createStrategy,
  type JsonValue,
  nb201Space,
  type OneShotRunContext,
} from '@naskit/core'
import { beforeAll, describe, expect, it } from 'vitest'
import dartsDefault, { dartsStrategy, strategies } from '../src/index.js'
import { mnistSubset, useBackend } from './helpers.js'

beforeAll(async () => {
  await useBackend('wasm')
})

describe('darts plugin', () => {
  it('is a one-shot strategy plugin, default-exported and listed in `strategies`', () => {
    expect(assertStrategyPlugin(dartsDefault)).toBe(dartsStrategy)
    expect(strategies).toEqual([dartsStrategy])
    expect(dartsStrategy.kind).toBe('one-shot')
    expect(dartsStrategy.name).toBe('darts')
    expect(dartsStrategy.options.remedy.default).toBe('darts-pt')
  })

  it('supports the nb201 and darts cell spaces only', () => {
    expect(dartsStrategy.supports!(nb201Space())).toBe(true)
    expect(dartsStrategy.supports!(chainSpace())).toMatch(/nb201 and darts/)
    expect(() => createStrategy(dartsStrategy, { space: chainSpace() })).toThrow(
      expect.objectContaining({ code: 'E_UNSUPPORTED_SPACE' }),
    )
  })

  it('runs through the one-shot contract with host services, checkpoints every epoch and resumes', {
    timeout: 60_000,
  }, async () => {
    const options = {
      epochs: 5,
      trainSize: 256,
      resolution: 8,
      channels: 4,
      layers: 1,
      batchSize: 32,
      remedy: 'none',
    }
    const saved: Array<{ state: JsonValue; blobs: Record<string, Uint8Array> }> = []
    const progress: number[] = []
    const ctx = (extra: Partial<OneShotRunContext> = {}): OneShotRunContext => ({
      budget: { epochs: 2 },
      signal: new AbortController().signal,
      progress: (p) => progress.push(p.fraction),
      checkpoint: async (state, blobs) => {
        saved.push({ state, blobs: blobs ?? {} })
      },
      services: { dataset: mnistSubset(512), backend: 'current' },
      ...extra,
    })
    const strategy = createStrategy(dartsStrategy, { space: nb201Space(), options, seed: 3 })
    const result = await strategy.run(ctx())
    expect(saved).toHaveLength(2) // budget.epochs overrides the option
    expect(result.architectures).toHaveLength(1)
    expect(nb201Space().isValid(result.architectures[0]!.arch)).toBe(true)
    const details = result.details as { peakBytes: number; history: unknown[]; epochs: number }
    expect(details.peakBytes).toBeGreaterThan(0)
    expect(details.epochs).toBe(2)
    expect(progress.at(-1)).toBe(1)
    const again = createStrategy(dartsStrategy, { space: nb201Space(), options, seed: 3 })
    const resumed = await again.run(ctx({ resume: saved[0]! }))
    expect(resumed.architectures[0]!.arch).toEqual(result.architectures[0]!.arch)
    expect((resumed.details as { alphas: unknown }).alphas).toEqual(
      (result.details as { alphas: unknown }).alphas,
    )
    // the runner gives the dataset as a function, called once when the search starts
    let loads = 0
    const lazy = createStrategy(dartsStrategy, { space: nb201Space(), options, seed: 3 })
    const viaHost = await lazy.run(
      ctx({
        services: {
          dataset: async () => {
            loads++
            return mnistSubset(512)
          },
          backend: 'current',
        },
      }),
    )
    expect(loads).toBe(1)
    expect(viaHost.architectures[0]!.arch).toEqual(result.architectures[0]!.arch)
  })
})
