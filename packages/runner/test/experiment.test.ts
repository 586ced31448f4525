import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { defineEvaluator, isNaskitError, nb201Space, simpleSearch } from '@naskit/core'
import { describe, expect, it } from 'vitest'
import { readExperiment, runExperiment, Store } from '../src/index'
import { cpu, fixtures, greedy, synthetic, tmp } from './helpers'

const brief = (
  trials: Array<{ id: number; key: string; status: string; objective: number | null }>,
) => trials.map((t) => ({ id: t.id, key: t.key, status: t.status, objective: t.objective }))

describe('runExperiment', () => {
  it('runs a seeded search and stores every trial', async () => {
    const out = join(tmp(), 'exp')
    const result = await runExperiment({
      out,
      config: { space: 'nb201', strategy: 'random', evaluator: synthetic, budget: 20, seed: 3 },
    })
    expect(result.status).toBe('completed')
    expect(result.reason).toBe('budget')
    expect(result.trials.map((t) => t.id)).toEqual([...Array(20).keys()])
    expect(result.best?.objective).toBe(Math.max(...result.trials.map((t) => t.objective ?? -1)))
    const stored = readExperiment(out)
    expect(stored.config?.strategy.name).toBe('random')
    expect(stored.versions?.['@naskit/runner']).toBe('0.1.0')
  })

  it('gives the same trials as the core simpleSearch loop for one worker', async () => {
    const out = join(tmp(), 'exp')
    const evaluator = defineEvaluator({
      name: 'convs',
      description: 'counts 3x3 convs',
      cost: 'cheap',
      options: {},
      create: () => ({
        name: 'convs',
        evaluate: (a) => ({ objective: JSON.stringify(a).split('nor_conv_3x3').length - 1 }),
      }),
    })
    const result = await runExperiment({
      out,
      config: { space: 'nb201', evaluator, budget: 15, seed: 8 },
    })
    const { randomStrategy } = await import('@naskit/core')
    const reference = await simpleSearch({
      space: nb201Space(),
      strategy: randomStrategy,
      evaluator: await evaluator.create({
        options: {},
        space: nb201Space(),
        seed: 0,
        log: console,
      }),
      trials: 15,
      seed: 8,
    })
    expect(brief(result.trials)).toEqual(brief(reference.trials))
  })

  it('keeps `workers` trials in flight and tells results out of order', async () => {
    const out = join(tmp(), 'exp')
    const finishOrder: number[] = []
    let maxRunning = 0
    const result = await runExperiment({
      out,
      config: {
        space: 'nb201',
        strategy: greedy,
        evaluator: { name: synthetic, options: { jitterMs: 25 } },
        budget: 24,
        workers: 4,
        seed: 2,
      },
      tellOrder: 'finish',
      onEvent: (e) => {
        if (e.type === 'trial') {
          finishOrder.push(e.trial.id)
          maxRunning = Math.max(maxRunning, e.running)
        }
      },
    })
    expect(result.trials).toHaveLength(24)
    expect(new Set(result.trials.map((t) => t.id)).size).toBe(24)
    expect(maxRunning).toBe(4)
    expect(finishOrder).not.toEqual([...finishOrder].sort((a, b) => a - b))
  })

  it('resumes a stopped search without rerunning finished trials, ending like an uninterrupted one', async () => {
    const base = tmp()
    const config = { space: 'nb201', strategy: greedy, evaluator: synthetic, seed: 5 } as const
    const full = await runExperiment({ out: join(base, 'full'), config: { ...config, budget: 30 } })
    const first = await runExperiment({
      out: join(base, 'split'),
      config: { ...config, budget: 12 },
    })
    expect(first.trials).toHaveLength(12)
    const second = await runExperiment({ out: join(base, 'split'), config: { budget: 30 } })
    expect(second.resumed).toBe(true)
    expect(brief(second.trials)).toEqual(brief(full.trials))
    expect(second.best?.id).toBe(full.best?.id)
    const store = Store.open(join(base, 'split'), { readonly: true })
    expect(store.events().map((e) => e.type)).toEqual(['created', 'end', 'resumed', 'end'])
    store.close()
  })

  it('refuses to resume with another configuration, or starts a new experiment with onMismatch "new"', async () => {
    const base = tmp()
    const out = join(base, 'exp')
    await runExperiment({
      out,
      config: { space: 'nb201', evaluator: synthetic, budget: 3, seed: 1 },
    })
    const error = await runExperiment({
      out,
      config: { space: 'nb201', evaluator: synthetic, budget: 3, seed: 2 },
    }).catch((e) => e)
    expect(isNaskitError(error, 'E_CONFIG_MISMATCH')).toBe(true)
    expect(error.message).toContain('seed: 1 → 2')
    const other = await runExperiment({
      out,
      config: { space: 'chain', evaluator: synthetic, budget: 3 },
    }).catch((e) => e)
    expect(other.message).toMatch(/space: "nb201" as stored differs from "chain"/)
    const fresh = await runExperiment({
      out,
      onMismatch: 'new',
      config: { space: 'nb201', evaluator: synthetic, budget: 3, seed: 2 },
    })
    expect(fresh.dir).toBe(`${out}-2`)
    expect(fresh.resumed).toBe(false)
    // only the change is needed: the rest comes from the stored configuration
    const third = await runExperiment({ out, onMismatch: 'new', config: { seed: 3 } })
    expect(third.dir).toBe(`${out}-3`)
    expect(readExperiment(third.dir).config).toMatchObject({
      seed: 3,
      space: { name: 'nb201' },
      evaluator: { name: 'synthetic' },
    })
  })

  it('names unknown config fields, with their dot-paths', async () => {
    const out = join(tmp(), 'exp')
    const typo = { space: 'nb201', evaluator: synthetic, budgte: 3 } as never
    await expect(runExperiment({ out, config: typo })).rejects.toThrow(
      /budgte: unknown field \(known: space, strategy/,
    )
    const deep = { space: 'nb201', evaluator: synthetic, budget: { trails: 3 } } as never
    await expect(runExperiment({ out, config: deep })).rejects.toThrow(
      /budget.trails: unknown field/,
    )
    const bad = { space: 'nb201', evaluator: synthetic, budget: { trials: 0 } }
    await expect(runExperiment({ out, config: bad })).rejects.toThrow(
      /budget.trials: must be a positive integer, got 0/,
    )
  })

  it('stores failed trials with their reasons, tells the strategy, and goes on', async () => {
    const out = join(tmp(), 'exp')
    const result = await runExperiment({
      out,
      config: {
        space: 'nb201',
        evaluator: { name: synthetic, options: { failEvery: 4, nanEvery: 5 } },
        budget: 20,
      },
    })
    expect(result.status).toBe('completed')
    const failed = result.trials.filter((t) => t.status === 'failed')
    expect(failed.map((t) => t.id)).toEqual([1, 4, 6, 8, 11, 12, 16])
    expect(failed.find((t) => t.id === 4)?.error).toEqual({
      code: 'E_SYNTHETIC',
      message: 'synthetic failure of trial 4',
    })
    expect(failed.find((t) => t.id === 6)?.error?.code).toBe('E_BAD_METRICS')
  })

  it('ends with status failed after --max-failures failed trials', async () => {
    const out = join(tmp(), 'exp')
    const result = await runExperiment({
      out,
      config: {
        space: 'nb201',
        evaluator: { name: synthetic, options: { failEvery: 2 } },
        budget: 50,
        maxFailures: 3,
      },
    })
    expect(result.status).toBe('failed')
    expect(result.reason).toBe('max-failures')
    expect(result.message).toContain('Stopped after 3 failed trials')
    expect(result.trials.filter((t) => t.status === 'failed')).toHaveLength(3)
  })

  it('stops on the target objective and on the time budget', async () => {
    const target = await runExperiment({
      out: join(tmp(), 'a'),
      config: {
        space: 'nb201',
        evaluator: synthetic,
        budget: { trials: 500, target: 0.9 },
        seed: 1,
      },
    })
    expect(target.reason).toBe('target')
    expect(target.best?.objective).toBeGreaterThanOrEqual(0.9)
    expect(target.trials.length).toBeLessThan(500)
    const timed = await runExperiment({
      out: join(tmp(), 'b'),
      config: {
        space: 'nb201',
        evaluator: { name: synthetic, options: { delayMs: 20 } },
        budget: { time: 300 },
      },
    })
    expect(timed.reason).toBe('time')
    expect(timed.trials.length).toBeGreaterThan(2)
    expect(timed.trials.length).toBeLessThan(20)
  })

  it('ends cleanly when the strategy exhausts the space', async () => {
    const { defineSpace, categorical } = await import('@naskit/core')
    const space = defineSpace('tiny', { a: categorical(['x', 'y', 'z']) })
    const result = await runExperiment({
      out: join(tmp(), 'exp'),
      config: { space, evaluator: synthetic, budget: 10 },
    })
    expect(result.reason).toBe('strategy')
    expect(result.trials).toHaveLength(3)
  })

  it('on abort, stops asking, lets running trials finish, and the resume reruns abandoned ones', async () => {
    const base = tmp()
    const controller = new AbortController()
    const config = {
      space: 'nb201',
      strategy: greedy,
      evaluator: { name: synthetic, options: { delayMs: 15 } },
      budget: 16,
      seed: 4,
      workers: 1,
    } as const
    let seen = 0
    const stopped = await runExperiment({
      out: join(base, 'exp'),
      config,
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type === 'trial' && ++seen === 5) controller.abort()
      },
    })
    expect(stopped.status).toBe('interrupted')
    expect(stopped.resumeCommand).toBe(`naskit search --out ${join(base, 'exp')}`)
    expect(stopped.trials).toHaveLength(6)
    // a grace period of zero abandons the running trial: it is rerun on resume
    const c2 = new AbortController()
    const again = await runExperiment({
      out: join(base, 'exp'),
      config: { ...config, graceMs: 0 },
      signal: c2.signal,
      onEvent: (e) => {
        if (e.type === 'trial' && e.done === 8) c2.abort()
      },
    })
    expect(again.status).toBe('interrupted')
    const store = Store.open(join(base, 'exp'), { readonly: true })
    expect(store.runningTrials().map((t) => t.id)).toEqual([8])
    store.close()
    const finished = await runExperiment({
      out: join(base, 'exp'),
      config: { ...config, graceMs: 0 },
    })
    const full = await runExperiment({ out: join(base, 'full'), config })
    expect(brief(finished.trials)).toEqual(brief(full.trials))
    expect(finished.trials.find((t) => t.id === 8)?.attempts).toBe(2)
  })

  it('runs a one-shot strategy, then evaluates the architectures it returns as trials', async () => {
    const base = tmp()
    const events: string[] = []
    const result = await runExperiment({
      out: join(base, 'exp'),
      config: {
        space: 'nb201',
        strategy: { name: join(fixtures, 'one-shot-strategy.ts'), options: { returns: 4 } },
        evaluator: synthetic,
        budget: 10,
      },
      onEvent: (e) => {
        if (e.type === 'one-shot') events.push(e.message ?? '')
      },
    })
    expect(events).toEqual(['epoch 1', 'epoch 2', 'epoch 3'])
    expect(result.reason).toBe('strategy')
    expect(result.trials).toHaveLength(4)
    const store = Store.open(join(base, 'exp'), { readonly: true })
    expect(store.blobs().weights).toEqual(new Uint8Array([3]))
    store.close()
  })
})

describe('one-shot strategies', () => {
  it('resume from their last checkpoint after an interrupt', async () => {
    const out = join(tmp(), 'exp')
    const config = {
      space: 'nb201',
      strategy: {
        name: join(fixtures, 'one-shot-strategy.ts'),
        options: { epochs: 3, returns: 2 },
      },
      evaluator: synthetic,
      budget: 10,
    } as const
    const controller = new AbortController()
    const first: string[] = []
    const stopped = await runExperiment({
      out,
      config,
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type === 'one-shot') {
          first.push(e.message ?? '')
          controller.abort()
        }
      },
    })
    expect(stopped.status).toBe('interrupted')
    expect(stopped.trials).toEqual([])
    const second: string[] = []
    const done = await runExperiment({
      out,
      onEvent: (e) => {
        if (e.type === 'one-shot') second.push(e.message ?? '')
      },
    })
    expect(first).toEqual(['epoch 1'])
    expect(second).toEqual(['epoch 2', 'epoch 3'])
    expect(done.trials).toHaveLength(2)
  })
})

describe('worker threads', () => {
  it('runs an expensive evaluator on worker threads, each with its own RNG stream', async () => {
    const result = await runExperiment({
      out: join(tmp(), 'exp'),
      config: {
        space: 'nb201',
        evaluator: { name: cpu, options: { iterations: 1000 } },
        budget: 12,
        workers: 2,
        seed: 1,
      },
    })
    expect(result.status).toBe('completed')
    expect(result.trials).toHaveLength(12)
    const workers = new Set(result.trials.map((t) => t.worker))
    expect([...workers].sort()).toEqual(['w0', 'w1'])
    const seeds = new Set(result.trials.map((t) => t.metrics.evaluatorSeed))
    expect(seeds.size).toBe(2)
  })

  it('disposes of each worker’s evaluator when the search ends', async () => {
    const base = tmp()
    const disposeLog = join(base, 'disposed.txt')
    await runExperiment({
      out: join(base, 'exp'),
      config: {
        space: 'nb201',
        evaluator: { name: cpu, options: { iterations: 10, disposeLog } },
        budget: 4,
        workers: 2,
      },
    })
    expect(readFileSync(disposeLog, 'utf8').trim().split('\n')).toHaveLength(2)
  })

  it('gives the same objectives on threads as in-process', async () => {
    const config = {
      space: 'nb201',
      evaluator: { name: cpu, options: { iterations: 10 } },
      budget: 8,
      seed: 6,
    } as const
    const threads = await runExperiment({
      out: join(tmp(), 't'),
      config: { ...config, executor: 'threads' },
    })
    const inline = await runExperiment({
      out: join(tmp(), 'i'),
      config: { ...config, executor: 'inline' },
    })
    expect(brief(threads.trials)).toEqual(brief(inline.trials))
    expect(inline.trials[0]?.worker).toBe('main')
  })

  it('fails the trial of a crashed worker, replaces the worker, and goes on', async () => {
    const result = await runExperiment({
      out: join(tmp(), 'exp'),
      config: {
        space: 'nb201',
        evaluator: { name: cpu, options: { iterations: 10, crashOn: [2, 5] } },
        budget: 8,
        workers: 2,
      },
    })
    expect(result.status).toBe('completed')
    expect(result.trials).toHaveLength(8)
    const failed = result.trials.filter((t) => t.status === 'failed')
    expect(failed.map((t) => t.id)).toEqual([2, 5])
    expect(failed[0]?.error?.code).toBe('E_WORKER_CRASHED')
    expect(failed[0]?.error?.message).toContain('exited (code 3)')
  })

  it('reports an evaluator that cannot start in a worker', async () => {
    const error = await runExperiment({
      out: join(tmp(), 'exp'),
      config: {
        space: 'nb201',
        evaluator: { name: cpu, options: { iterations: -1 } },
        budget: 2,
        executor: 'threads',
      },
    }).catch((e) => e)
    expect(isNaskitError(error, 'E_BAD_OPTIONS')).toBe(true)
  })
})
