/**
 * The steps that every ask/evaluate/tell loop takes with a proposal (`simpleSearch`, the
 * runner's scheduler, the benchmark suite): check it against the space, evaluate it with the
 * trial's own RNG stream, turn the outcome into a {@link TrialResult}, keep the best.
 */
import {
  type Evaluator,
  type Fidelity,
  type Metrics,
  type Progress,
  type Proposal,
  type TrialError,
  type TrialResult,
  toTrialError,
  toTrialResult,
} from './contracts'
import { isNaskitError, NaskitError } from './errors'
import type { JsonValue } from './json'
import { Rng } from './rng'
import type { SearchSpace } from './space/space'
import type { Arch } from './space/types'

/** A proposal that is a member of its space: the canonical architecture and its key. */
export interface CheckedProposal {
  arch: Arch
  key: string
  meta?: JsonValue
  fidelity?: Fidelity
  /** The lower-fidelity trial this one continues (see {@link Proposal.continueFrom}). */
  continueFrom?: number
}

/** A proposal that is not a member of its space, with the `E_INVALID_ARCH` error saying why. */
export interface InvalidProposal {
  error: NaskitError
}

/** A checked proposal with the id of its trial: what a host evaluates. */
export interface PendingTrial extends CheckedProposal {
  id: number
}

/**
 * Checks a proposal against the space: the canonical architecture, its key and the proposal's
 * `meta` and `fidelity`; or, for an architecture outside the space, the `E_INVALID_ARCH` error
 * naming the offending decision (`'error' in result` tells them apart).
 */
export function prepareProposal(
  space: SearchSpace,
  proposal: Proposal,
): CheckedProposal | InvalidProposal {
  let arch: Arch
  try {
    arch = space.validate(proposal.arch)
  } catch (error) {
    return {
      error: isNaskitError(error)
        ? error
        : new NaskitError(
            'E_INVALID_ARCH',
            `Architecture is not in space "${space.name}": ${toTrialError(error).message}`,
            { cause: error },
          ),
    }
  }
  return {
    arch,
    key: space.key(arch),
    ...(proposal.meta === undefined ? {} : { meta: proposal.meta }),
    ...(proposal.fidelity ? { fidelity: proposal.fidelity } : {}),
    // a hint only: anything but a trial id is dropped
    ...(Number.isSafeInteger(proposal.continueFrom) && (proposal.continueFrom as number) >= 0
      ? { continueFrom: proposal.continueFrom as number }
      : {}),
  }
}

/** The RNG stream of trial `id` in a search seeded `seed`: the same on any worker or machine. */
export function trialRng(seed: number, id: number): Rng {
  return new Rng(seed).fork('trials').fork(id)
}

/** What evaluating a trial produced, and when. */
export interface Evaluation {
  outcome: { metrics: Metrics } | { error: TrialError }
  startedAt: number
  finishedAt: number
}

/**
 * Evaluates a trial's architecture with the trial's RNG stream (its first draw is `ctx.seed`).
 * Never throws: what the evaluator throws becomes the outcome `{ error }` ({@link toTrialError}).
 */
export async function evaluateTrial(
  evaluator: Evaluator,
  trial: { id: number; arch: Arch; fidelity?: Fidelity },
  ctx: {
    space: SearchSpace
    rng: Rng
    signal: AbortSignal
    progress?: (p: Progress) => void
  },
): Promise<Evaluation> {
  const { rng } = ctx
  const seed = rng.seed()
  const startedAt = Date.now()
  let outcome: Evaluation['outcome']
  try {
    const metrics = await evaluator.evaluate(trial.arch, {
      trialId: trial.id,
      seed,
      rng,
      signal: ctx.signal,
      progress: ctx.progress ?? (() => {}),
      space: ctx.space,
      ...(trial.fidelity ? { fidelity: trial.fidelity } : {}),
    })
    outcome = { metrics }
  } catch (error) {
    outcome = { error: toTrialError(error) }
  }
  return { outcome, startedAt, finishedAt: Date.now() }
}

/**
 * The {@link TrialResult} of a trial and its outcome (see {@link toTrialResult}), with the
 * proposal's `meta` and `fidelity`, the timings when the evaluation has them, and the worker.
 */
export function trialResultOf(
  trial: PendingTrial,
  evaluation: {
    outcome: { metrics: Metrics } | { error: unknown }
    startedAt?: number
    finishedAt?: number
    worker?: string
  },
): TrialResult {
  const { startedAt, finishedAt, worker } = evaluation
  return toTrialResult({
    id: trial.id,
    arch: trial.arch,
    key: trial.key,
    outcome: evaluation.outcome,
    ...(startedAt !== undefined && finishedAt !== undefined
      ? { timings: { startedAt, finishedAt, durationMs: finishedAt - startedAt } }
      : {}),
    ...(worker === undefined ? {} : { worker }),
    ...(trial.meta === undefined ? {} : { meta: trial.meta }),
    ...(trial.fidelity ? { fidelity: trial.fidelity } : {}),
  })
}

/** The parts of a trial that rank it. */
export type RankedTrial = Pick<TrialResult, 'id' | 'status' | 'objective'>

/**
 * Keeps the best trial seen: the highest objective among ok trials; of equal objectives, the
 * first offered.
 */
export class BestTracker<T extends RankedTrial = TrialResult> {
  /** The best trial so far, if any. */
  best: T | undefined = undefined

  /** Offers a finished trial; true when it is the new best. */
  offer(trial: T): boolean {
    if (trial.status !== 'ok' || trial.objective === null) return false
    if (this.best !== undefined && !(trial.objective > (this.best.objective as number)))
      return false
    this.best = trial
    return true
  }

  /** The best trial's id and objective, or null. */
  summary(): { id: number; objective: number } | null {
    return this.best === undefined
      ? null
      : { id: this.best.id, objective: this.best.objective as number }
  }
}

/** The best of `trials` (see {@link BestTracker}), or undefined. */
export function bestTrial<T extends RankedTrial>(trials: Iterable<T>): T | undefined {
  const tracker = new BestTracker<T>()
  for (const t of trials) tracker.offer(t)
  return tracker.best
}
