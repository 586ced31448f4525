import {
  chainSpace,
  createStrategy,
  dartsSpace,
  describeOptions,
  type JsonValue,
  nasnetSpace,
  nb201Space,
  type OneShotRunContext,
  type SearchSpace,
} from '@naskit/core'
import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import supernetDefault, {
  runSupernetSearch,
  type SupernetStrategyOptions,
  strategies,
  supernetStrategy,
} from '../src/index'
import { mnistSubset, useBackend } from './helpers'

const splits = mnistSubset(128, 64, 64)
const tinyOptions: Partial<SupernetStrategyOptions> = {
  epochs: 2,
  batchSize: 32,
  resolution: 8,
  supernet: {
    nb201: { channels: 4, cellsPerStage: 1 },
    chain: { baseChannels: 4, resolution: 8 },
    nasnet: { channelScale: 0.5 },
  },
  calibrationBatches: 1,
  searchTrials: 5,
  topK: 3,
  searchStrategy: 'random',
  backend: 'current',
}

type Checkpoint = { state: JsonValue; blobs: Record<string, Uint8Array> }

function context(extra: Partial<OneShotRunContext> = {}) {
  const checkpoints: Checkpoint[] = []
  const fractions: number[] = []
  const ctx: OneShotRunContext = {
    budget: {},
    signal: new AbortController().signal,
    progress: (p) => {
      fractions.push(p.fraction)
    },
    checkpoint: async (state, blobs) => {
      checkpoints.push({ state: JSON.parse(JSON.stringify(state)), blobs: blobs ?? {} })
    },
    services: { splits },
    ...extra,
  }
  return { ctx, checkpoints, fractions }
}

const run = (space: SearchSpace, options: object, ctx: OneShotRunContext, seed = 1) =>
  createStrategy(supernetStrategy, { space, options, seed }).run(ctx)

describe('supernetStrategy', () => {
  beforeAll(useBackend)

  it('is a well-formed one-shot plugin, default-exported and listed in strategies', () => {
    expect(supernetDefault).toBe(supernetStrategy)
    expect(strategies).toEqual([supernetStrategy])
    expect(supernetStrategy.kind).toBe('one-shot')
    expect(supernetStrategy.name).toBe('supernet')
    for (const row of describeOptions(supernetStrategy.options))
      expect(row.description.length, row.name).toBeGreaterThan(10)
    expect(supernetStrategy.supports?.(nb201Space())).toBe(true)
    expect(supernetStrategy.supports?.(chainSpace())).toBe(true)
    expect(supernetStrategy.supports?.(nasnetSpace())).toBe(true)
    expect(supernetStrategy.supports?.(dartsSpace())).toMatch(/no supernet/)
    expect(() => createStrategy(supernetStrategy, { space: dartsSpace() })).toThrow(
      /does not support/,
    )
    expect(() =>
      createStrategy(supernetStrategy, { space: nb201Space(), options: { sampler: 'x' } }),
    ).toThrow(/sampler/)
  })

  it('trains, checkpoints every epoch, and returns the top-k architectures best first', async () => {
    const space = nb201Space()
    const { ctx, checkpoints, fractions } = context()
    const before = tf.memory().numTensors
    const result = await run(space, tinyOptions, ctx)
    expect(tf.memory().numTensors).toBe(before)
    expect(result.architectures.length).toBeGreaterThan(0)
    expect(result.architectures.length).toBeLessThanOrEqual(3)
    const scores = result.architectures.map((a) => a.score as number)
    expect(scores).toEqual([...scores].sort((a, b) => b - a))
    for (const a of result.architectures) expect(space.isValid(a.arch)).toBe(true)
    expect(checkpoints).toHaveLength(2)
    expect(Object.keys(checkpoints[0]!.blobs).length).toBeGreaterThan(50)
    expect(fractions.at(-1)).toBe(1)
    const details = result.details as Record<string, Record<string, unknown>>
    expect(details.training).toMatchObject({ epochs: 2, steps: 8, sampler: 'uniform' })
    expect(details.search).toMatchObject({ strategy: 'random', trials: 5 })
  })

  it('trains on the dataset the host gives as a function, with the host’s backend', async () => {
    let loads = 0
    const { ctx, checkpoints } = context({
      services: {
        dataset: async () => {
          loads++
          return splits.train.dataset
        },
        backend: 'current',
      },
    })
    const small = { trainSize: 128, validationSize: 64, testSize: 64 }
    const result = await run(nb201Space(), { ...tinyOptions, ...small, backend: 'auto' }, ctx)
    expect(loads).toBe(1)
    expect(checkpoints).toHaveLength(2)
    expect(result.architectures.length).toBeGreaterThan(0)
  })

  it('resumes from its checkpoint and refuses one of another configuration', async () => {
    const space = nb201Space()
    const first = context()
    await run(space, tinyOptions, first.ctx)
    const cp = first.checkpoints[0]!
    const resumed = context({ resume: cp })
    const result = await run(space, tinyOptions, resumed.ctx)
    const training = (result.details as Record<string, Record<string, unknown>>).training
    expect(training).toMatchObject({ resumedAfterEpoch: 1, epochs: 2, steps: 8 })
    expect(resumed.checkpoints).toHaveLength(1)
    const other = context({ resume: cp })
    await expect(run(space, { ...tinyOptions, resolution: 12 }, other.ctx)).rejects.toMatchObject({
      code: 'E_CONFIG_MISMATCH',
    })
  })

  it('splits a few-shot supernet through its options and resumes after the split', async () => {
    const space = nb201Space()
    const options = {
      ...tinyOptions,
      supernet: {
        nb201: { channels: 4, cellsPerStage: 1 },
        fewShot: { decision: 'cell.3.0.op', splitEpoch: 1 },
      },
    }
    const first = context()
    const result = await run(space, options, first.ctx)
    expect(result.architectures.length).toBeGreaterThan(0)
    const splitFlags = first.checkpoints.map(
      (c) => (c.state as { train: { split: boolean } }).train.split,
    )
    expect(splitFlags).toEqual([false, true])
    // five copies of every edge weight once split
    expect(Object.keys(first.checkpoints[1]!.blobs).some((k) => k.startsWith('shot4/'))).toBe(true)
    const resumed = context({ resume: first.checkpoints[1]! })
    const again = await run(space, options, resumed.ctx)
    expect(again.architectures.map((a) => a.score)).toEqual(
      result.architectures.map((a) => a.score),
    )
    const bad = context()
    await expect(
      run(space, { ...options, supernet: { fewShot: { decision: 'x', splitEpoch: 1 } } }, bad.ctx),
    ).rejects.toMatchObject({ code: 'E_BAD_OPTIONS' })
  })

  it('averages the last epochs when asked and refuses more averaged epochs than trained', async () => {
    const space = nb201Space()
    const first = context()
    await run(space, { ...tinyOptions, averageEpochs: 2 }, first.ctx)
    const states = first.checkpoints.map(
      (c) => (c.state as { train: { averageCount: number; averaged: boolean } }).train,
    )
    expect(states).toEqual([
      expect.objectContaining({ averageCount: 1, averaged: false }),
      expect.objectContaining({ averageCount: 2, averaged: true }),
    ])
    expect(Object.keys(first.checkpoints[0]!.blobs).some((k) => k.startsWith('average/'))).toBe(
      true,
    )
    const before = tf.memory().numTensors
    const bad = context()
    await expect(run(space, { ...tinyOptions, averageEpochs: 3 }, bad.ctx)).rejects.toMatchObject({
      code: 'E_BAD_OPTIONS',
    })
    expect(tf.memory().numTensors).toBe(before)
  })

  it('stops with E_ABORTED when the signal fires', async () => {
    const ac = new AbortController()
    ac.abort()
    const { ctx } = context({ signal: ac.signal })
    await expect(run(nb201Space(), tinyOptions, ctx)).rejects.toMatchObject({ code: 'E_ABORTED' })
  })

  it('searches with evolution by default and retrains the best from scratch', async () => {
    const { ctx } = context({ budget: { epochs: 1, trials: 4 } })
    const { searchStrategy: _, ...options } = tinyOptions
    const result = await run(nb201Space(), { ...options, retrainEpochs: 1 }, ctx)
    const details = result.details as Record<string, Record<string, unknown>>
    expect(details.search).toMatchObject({ strategy: 'evolution', trials: 4 })
    const standalone = (result.architectures[0]!.meta as Record<string, Record<string, number>>)
      .standalone!
    expect(standalone.val_accuracy).toBeGreaterThanOrEqual(0)
    expect(standalone.val_accuracy).toBeLessThanOrEqual(1)
    expect(standalone.params).toBeGreaterThan(0)
    expect(standalone.epochs).toBe(1)
  })

  it('runs on the chain and NASNet spaces through the programmatic API', async () => {
    const spaces = [
      chainSpace({ resolution: { low: 8, high: 8 }, depth: { min: 2, max: 3 } }),
      nasnetSpace({ channels: { low: 8, high: 16, step: 8 }, repeats: { min: 2, max: 3 } }),
    ]
    for (const space of spaces) {
      const { ctx } = context({ budget: { epochs: 1 } })
      const result = await runSupernetSearch({
        space,
        options: { ...tinyOptions, searchTrials: 3, sampler: 'fair' },
        seed: 2,
        ctx,
      })
      expect(result.architectures.length).toBeGreaterThan(0)
      for (const a of result.architectures) expect(space.isValid(a.arch), space.name).toBe(true)
    }
  })
})
