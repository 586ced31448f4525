import { describe, expect, it } from 'vitest'
import {
  BestTracker,
  bestTrial,
  categorical,
  defineSpace,
  type EvalContext,
  evaluateTrial,
  int,
  NaskitError,
  nb201Space,
  prepareProposal,
  Rng,
  type TrialResult,
  toTrialError,
  trialResultOf,
  trialRng,
} from '../src/index'

const space = defineSpace('pair', { a: categorical(['x', 'y']), b: int(1, 4) })

describe('prepareProposal', () => {
  it('gives the canonical architecture, its key, and the meta and fidelity', () => {
    const checked = prepareProposal(space, {
      arch: { b: 2, a: 'y' },
      meta: { from: 'test' },
      fidelity: { epochs: 3 },
    })
    expect(checked).toEqual({
      arch: { a: 'y', b: 2 },
      key: space.key({ a: 'y', b: 2 }),
      meta: { from: 'test' },
      fidelity: { epochs: 3 },
    })
    expect('meta' in prepareProposal(space, { arch: { a: 'x', b: 1 } })).toBe(false)
  })

  it('carries the trial a promoted proposal continues, and drops anything but a trial id', () => {
    expect(prepareProposal(space, { arch: { a: 'x', b: 1 }, continueFrom: 4 })).toMatchObject({
      continueFrom: 4,
    })
    for (const bad of [-1, 1.5, Number.NaN, '4'])
      expect(
        'continueFrom' in
          prepareProposal(space, { arch: { a: 'x', b: 1 }, continueFrom: bad as number }),
      ).toBe(false)
  })

  it('answers an architecture outside the space with E_INVALID_ARCH naming the decision', () => {
    const checked = prepareProposal(space, { arch: { a: 'x', b: 9 } })
    expect('error' in checked).toBe(true)
    if (!('error' in checked)) return
    expect(checked.error).toBeInstanceOf(NaskitError)
    expect(checked.error.code).toBe('E_INVALID_ARCH')
    expect(checked.error.message).toMatch(/\bb\b/)
    expect(prepareProposal(nb201Space(), { arch: { cell: { nodes: [] } } })).toMatchObject({
      error: { code: 'E_INVALID_ARCH' },
    })
  })
})

describe('trialRng', () => {
  it('is the trial stream of the seed, the same however it is reached', () => {
    expect(trialRng(7, 3).state()).toEqual(new Rng(7).fork('trials').fork(3).state())
    expect(trialRng(7, 3).state()).not.toEqual(trialRng(7, 4).state())
  })
})

describe('evaluateTrial', () => {
  const ctx = () => ({ space, rng: trialRng(1, 5), signal: new AbortController().signal })

  it('evaluates with the trial id, the first draw of its stream as seed, and the fidelity', async () => {
    let seen: EvalContext | undefined
    const evaluation = await evaluateTrial(
      {
        name: 'probe',
        evaluate(_arch, c) {
          seen = c
          return { objective: 1 }
        },
      },
      { id: 5, arch: { a: 'x', b: 1 }, fidelity: { epochs: 2 } },
      ctx(),
    )
    expect(evaluation.outcome).toEqual({ metrics: { objective: 1 } })
    expect(evaluation.finishedAt).toBeGreaterThanOrEqual(evaluation.startedAt)
    expect(seen?.trialId).toBe(5)
    expect(seen?.seed).toBe(trialRng(1, 5).seed())
    expect(seen?.fidelity).toEqual({ epochs: 2 })
    expect(seen?.space).toBe(space)
  })

  it('never throws: an error becomes its code and message', async () => {
    const failing = (error: unknown) => ({
      name: 'failing',
      evaluate(): never {
        throw error
      },
    })
    const arch = { id: 0, arch: { a: 'x', b: 1 } }
    const coded = await evaluateTrial(
      failing(new NaskitError('E_DIVERGED', 'loss is NaN')),
      arch,
      ctx(),
    )
    expect(coded.outcome).toEqual({ error: { code: 'E_DIVERGED', message: 'loss is NaN' } })
    const plain = await evaluateTrial(failing('out of memory'), arch, ctx())
    expect(plain.outcome).toEqual({
      error: { code: 'E_EVALUATION_FAILED', message: 'out of memory' },
    })
  })
})

describe('toTrialError', () => {
  it('keeps a non-empty string code and the message, else falls back', () => {
    expect(toTrialError(Object.assign(new Error('boom'), { code: 'E_X' }))).toEqual({
      code: 'E_X',
      message: 'boom',
    })
    expect(toTrialError(Object.assign(new Error('boom'), { code: '' }))).toEqual({
      code: 'E_EVALUATION_FAILED',
      message: 'boom',
    })
    expect(toTrialError({ code: 3 }, 'E_WORKER_INIT')).toEqual({
      code: 'E_WORKER_INIT',
      message: '[object Object]',
    })
    expect(toTrialError(null)).toEqual({ code: 'E_EVALUATION_FAILED', message: 'null' })
  })
})

describe('trialResultOf', () => {
  const trial = { id: 2, arch: { a: 'x', b: 1 }, key: 'k', meta: 7, fidelity: { epochs: 1 } }

  it('gives an ok trial with timings, worker, meta and fidelity', () => {
    const r = trialResultOf(trial, {
      outcome: { metrics: { objective: 0.5, params: 10 } },
      startedAt: 100,
      finishedAt: 130,
      worker: 'w1',
    })
    expect(r).toEqual({
      id: 2,
      arch: { a: 'x', b: 1 },
      key: 'k',
      status: 'ok',
      objective: 0.5,
      metrics: { objective: 0.5, params: 10 },
      timings: { startedAt: 100, finishedAt: 130, durationMs: 30 },
      worker: 'w1',
      meta: 7,
      fidelity: { epochs: 1 },
    })
  })

  it('fails a non-finite objective or an error, and leaves out timings it lacks', () => {
    const nan = trialResultOf(trial, { outcome: { metrics: { objective: Number.NaN } } })
    expect(nan).toMatchObject({ status: 'failed', error: { code: 'E_BAD_METRICS' } })
    expect('timings' in nan).toBe(false)
    const failed = trialResultOf(trial, {
      outcome: { error: { code: 'E_ABORTED', message: 'stop' } },
    })
    expect(failed).toMatchObject({
      status: 'failed',
      objective: null,
      error: { code: 'E_ABORTED' },
    })
  })
})

describe('BestTracker', () => {
  const t = (id: number, objective: number | null): TrialResult => ({
    id,
    arch: {},
    key: String(id),
    status: objective === null ? 'failed' : 'ok',
    objective,
    metrics: {},
  })

  it('keeps the first trial with the highest objective and skips failed ones', () => {
    const best = new BestTracker()
    expect(best.summary()).toBeNull()
    expect(best.offer(t(0, null))).toBe(false)
    expect(best.offer(t(1, 0.3))).toBe(true)
    expect(best.offer(t(2, 0.7))).toBe(true)
    expect(best.offer(t(3, 0.7))).toBe(false)
    expect(best.offer(t(4, -1))).toBe(false)
    expect(best.best?.id).toBe(2)
    expect(best.summary()).toEqual({ id: 2, objective: 0.7 })
  })

  it('bestTrial picks the same from a list', () => {
    expect(bestTrial([t(0, 1), t(1, null), t(2, 3), t(3, 3)])?.id).toBe(2)
    expect(bestTrial([t(0, null)])).toBeUndefined()
  })
})
