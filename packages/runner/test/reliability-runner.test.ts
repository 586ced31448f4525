import { readFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import { categorical, defineSpace, nb201Space, Rng } from '@naskit/core'
import { describe, expect, it } from 'vitest'
import { trialRngState } from '../src/evaluate'
import {
  applyFlags,
  type EvalReport,
  loadEvaluator,
  type RunEvent,
  readExperiment,
  runExperiment,
  ThreadExecutor,
} from '../src/index'
import { fixtures, packageDir, tmp } from './helpers'

const misbehaving = join(fixtures, 'rel-misbehaving-evaluator.ts')
const cheap = `${misbehaving}#cheap`
const expensive = `${misbehaving}#expensive`

const failures = (trials: Array<{ id: number; status: string; error?: { code: string } }>) =>
  trials.filter((t) => t.status === 'failed').map((t) => ({ id: t.id, code: t.error?.code }))

describe('metrics the store cannot write', () => {
  const metricOf = { bigint: 'flops', circular: 'detail', function: 'score' } as const

  for (const executor of ['inline', 'threads'] as const) {
    for (const mode of ['bigint', 'circular', 'function'] as const) {
      it(`fail their trial with E_BAD_METRICS naming the metric (${mode}, ${executor}); the search goes on`, async () => {
        const out = join(tmp(), 'exp')
        const result = await runExperiment({
          out,
          config: {
            space: 'nb201',
            evaluator: { name: executor === 'inline' ? cheap : expensive, options: { mode } },
            executor,
            budget: 4,
            seed: 2,
          },
        })
        expect(result.status).toBe('completed')
        expect(result.trials).toHaveLength(4)
        expect(failures(result.trials)).toEqual([{ id: 1, code: 'E_BAD_METRICS' }])
        const failed = result.trials.find((t) => t.id === 1)
        expect(failed?.error?.message).toContain(`metric "${metricOf[mode]}"`)
        expect(readExperiment(out).running).toBe(0)
      })
    }
  }
})

describe('trialTimeout', () => {
  it('fails a trial whose promise never settles (inline) with E_TRIAL_TIMEOUT and goes on', async () => {
    const out = join(tmp(), 'exp')
    const result = await runExperiment({
      out,
      config: {
        space: 'nb201',
        evaluator: { name: cheap, options: { mode: 'never', on: [1] } },
        budget: 4,
        trialTimeout: 300,
      },
    })
    expect(result.status).toBe('completed')
    expect(failures(result.trials)).toEqual([{ id: 1, code: 'E_TRIAL_TIMEOUT' }])
    const message = result.trials.find((t) => t.id === 1)?.error?.message
    expect(message).toContain('Trial 1 ran longer than its time limit of 300 ms')
    expect(message).toContain('cannot be interrupted')
    const stored = readExperiment(out)
    expect(stored.running).toBe(0)
    expect(stored.config?.trialTimeoutMs).toBe(300)
  })

  it('fails an inline trial that blocks the thread for longer than the limit', async () => {
    const result = await runExperiment({
      out: join(tmp(), 'exp'),
      config: {
        space: 'nb201',
        evaluator: { name: cheap, options: { mode: 'spin', ms: 400, on: [0] } },
        budget: 2,
        trialTimeout: '0.2s',
      },
    })
    expect(failures(result.trials)).toEqual([{ id: 0, code: 'E_TRIAL_TIMEOUT' }])
  })

  it('terminates and replaces the worker thread of a trial that runs too long', async () => {
    const base = tmp()
    const createLog = join(base, 'created.txt')
    const started = Date.now()
    const result = await runExperiment({
      out: join(base, 'exp'),
      config: {
        space: 'nb201',
        evaluator: { name: expensive, options: { mode: 'spin', on: [1], createLog } },
        executor: 'threads',
        budget: 6,
        workers: 2,
        trialTimeout: 500,
      },
    })
    expect(Date.now() - started).toBeLessThan(15_000)
    expect(result.status).toBe('completed')
    expect(result.trials).toHaveLength(6)
    expect(failures(result.trials)).toEqual([{ id: 1, code: 'E_TRIAL_TIMEOUT' }])
    expect(result.trials.find((t) => t.id === 1)?.error?.message).toContain(
      'its worker thread was stopped and replaced',
    )
    // two threads at the start; the spinning one was replaced when a trial needed it
    expect(readFileSync(createLog, 'utf8').trim().split('\n').length).toBeGreaterThanOrEqual(2)
  }, 20_000)

  it('is kept on resume, can be changed, and is validated', async () => {
    const out = join(tmp(), 'exp')
    const config = { space: 'nb201', evaluator: cheap, budget: 2, trialTimeout: '2m' } as const
    await runExperiment({ out, config })
    expect(readExperiment(out).config?.trialTimeoutMs).toBe(120_000)
    await runExperiment({ out, config: { budget: 3 } })
    expect(readExperiment(out).config?.trialTimeoutMs).toBe(120_000)
    await runExperiment({ out, config: { budget: 4, trialTimeout: 5000 } })
    expect(readExperiment(out).config?.trialTimeoutMs).toBe(5000)
    await expect(
      runExperiment({ out: join(tmp(), 'x'), config: { ...config, trialTimeout: 'soon' } }),
    ).rejects.toThrow(/trialTimeout: cannot read duration "soon"/)
    await expect(
      runExperiment({ out: join(tmp(), 'y'), config: { ...config, trialTimeout: -5 } }),
    ).rejects.toThrow(/trialTimeout: must be a positive number/)
  })

  it('comes from --trial-timeout in seconds, or a duration', () => {
    expect(applyFlags({}, { trialTimeout: '90' }).trialTimeout).toBe('90s')
    expect(applyFlags({}, { trialTimeout: '10m' }).trialTimeout).toBe('10m')
  })
})

describe('stopping with a hung trial', () => {
  it('ends on the time budget after the grace period, abandoning the hung trial', async () => {
    const out = join(tmp(), 'exp')
    const stopping: RunEvent[] = []
    const started = Date.now()
    const result = await runExperiment({
      out,
      config: {
        space: 'nb201',
        evaluator: { name: cheap, options: { hangOn: [2], delayMs: 10 } },
        budget: { time: 300 },
        graceMs: 200,
      },
      onEvent: (e) => {
        if (e.type === 'stopping') stopping.push(e)
      },
    })
    expect(Date.now() - started).toBeLessThan(5000)
    expect(result.reason).toBe('time')
    expect(stopping).toMatchObject([{ reason: 'time', running: 1, graceMs: 200 }])
    // the abandoned trial stays running: a resume runs it again
    expect(readExperiment(out).running).toBe(1)
  })

  it('ends on --max-failures after the grace period', async () => {
    const result = await runExperiment({
      out: join(tmp(), 'exp'),
      config: {
        space: 'nb201',
        evaluator: { name: cheap, options: { hangOn: [0], mode: 'throw', on: [1, 2] } },
        budget: 50,
        workers: 3,
        maxFailures: 2,
        graceMs: 200,
      },
    })
    expect(result.status).toBe('failed')
    expect(result.reason).toBe('max-failures')
  })

  it('ends on a worker thread that never finishes, too', async () => {
    const started = Date.now()
    const result = await runExperiment({
      out: join(tmp(), 'exp'),
      config: {
        space: 'nb201',
        evaluator: { name: expensive, options: { mode: 'spin', on: [0] } },
        executor: 'threads',
        budget: { time: 300 },
        graceMs: 200,
      },
    })
    expect(result.reason).toBe('time')
    expect(Date.now() - started).toBeLessThan(10_000)
  }, 15_000)

  it('honours an interrupt while it waits for the last trials', async () => {
    const space = defineSpace('tiny', { a: categorical(['x', 'y', 'z']) })
    const controller = new AbortController()
    const events: RunEvent[] = []
    const result = await runExperiment({
      out: join(tmp(), 'exp'),
      config: {
        space,
        evaluator: { name: cheap, options: { hangOn: [2] } },
        budget: 10,
        workers: 2,
        graceMs: 200,
      },
      signal: controller.signal,
      onEvent: (e) => {
        events.push(e)
        // the strategy has proposed every architecture; only the hung trial is left
        if (e.type === 'stopping') setTimeout(() => controller.abort(), 100)
      },
    })
    expect(result.status).toBe('interrupted')
    expect(result.trials).toHaveLength(2)
    expect(events.filter((e) => e.type === 'stopping')).toMatchObject([
      { reason: 'strategy', graceMs: null },
      { reason: 'interrupted', graceMs: 200 },
    ])
  })
})

describe('worker threads start as trials need them', () => {
  it('starts no more threads than trials will run at once', async () => {
    const base = tmp()
    const createLog = join(base, 'created.txt')
    const result = await runExperiment({
      out: join(base, 'exp'),
      config: {
        space: 'nb201',
        evaluator: { name: expensive, options: { createLog } },
        executor: 'threads',
        budget: 2,
        workers: 6,
      },
    })
    expect(result.trials).toHaveLength(2)
    expect(readFileSync(createLog, 'utf8').trim().split('\n')).toHaveLength(2)
  })

  it('caps the thread count, with a warning', async () => {
    const space = nb201Space()
    const loaded = await loadEvaluator(expensive, packageDir)
    const createLog = join(tmp(), 'created.txt')
    const warnings: string[] = []
    const executor = new ThreadExecutor({
      options: { createLog, delayMs: 20 },
      space,
      seed: 1,
      log: { info() {}, warn: (m) => void warnings.push(m) },
      slots: 12,
      maxThreads: 2,
      ref: loaded.ref as NonNullable<typeof loaded.ref>,
    })
    expect(executor.maxThreads).toBe(2)
    await executor.start()
    const rng = new Rng(3)
    const reports: EvalReport[] = await Promise.all(
      Array.from(
        { length: 6 },
        (_, i) =>
          executor.run({ trialId: i, arch: space.sample(rng), rngState: trialRngState(1, i) }).done,
      ),
    )
    await executor.close()
    expect(reports.every((r) => 'metrics' in r.outcome)).toBe(true)
    expect(readFileSync(createLog, 'utf8').trim().split('\n')).toHaveLength(2)
    expect(warnings).toEqual([expect.stringContaining('12 workers asked for')])
    expect(warnings[0]).toContain('at most 2 worker threads run')
    // the default cap: 4 threads per core
    const big = new ThreadExecutor({
      options: {},
      space,
      seed: 1,
      log: { info() {}, warn() {} },
      slots: 10_000,
      ref: loaded.ref as NonNullable<typeof loaded.ref>,
    })
    expect(big.maxThreads).toBe(4 * availableParallelism())
  })
})
