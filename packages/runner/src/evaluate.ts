import {
  type Arch,
  type Evaluator,
  type EvaluatorPlugin,
  type Fidelity,
  type Logger,
  type Metrics,
  type Progress,
  Rng,
  type RngState,
  type SearchSpace,
  validateOptions,
} from '@naskit/core'

/** One evaluation to run. */
export interface EvalTask {
  trialId: number
  arch: Arch
  /** State of the trial's own RNG stream (derived from the experiment seed and the id). */
  rngState: RngState
  fidelity?: Fidelity
}

/** A serialisable error. */
export interface EvalError {
  code: string
  message: string
}

/** What an evaluation produced. */
export type EvalOutcome = { metrics: Metrics } | { error: EvalError }

/** An evaluation outcome with where and when it ran. */
export interface EvalReport {
  outcome: EvalOutcome
  worker: string
  startedAt: number
  finishedAt: number
}

/** Turns anything thrown into a serialisable `{ code, message }`. */
export function toEvalError(error: unknown, fallbackCode = 'E_EVALUATION_FAILED'): EvalError {
  const e = error as { code?: unknown; message?: unknown } | null
  const code = typeof e?.code === 'string' && e.code !== '' ? e.code : fallbackCode
  const message = typeof e?.message === 'string' ? e.message : String(error)
  return { code, message }
}

/** Seed an evaluator instance is created with: its own stream per worker. */
export function evaluatorSeed(seed: number, workerIndex: number): number {
  return new Rng(seed).fork('evaluator').fork(workerIndex).seed()
}

/** The RNG stream of a trial: the same whichever worker runs it. */
export function trialRngState(seed: number, trialId: number): RngState {
  return new Rng(seed).fork('trials').fork(trialId).state()
}

/** Validates the evaluator's options and creates it. */
export async function createEvaluator(
  plugin: EvaluatorPlugin,
  args: { options: unknown; space: SearchSpace; seed: number; log: Logger },
): Promise<Evaluator> {
  const options = validateOptions(
    plugin.options,
    args.options,
    `options of evaluator "${plugin.name}"`,
  )
  return await plugin.create({
    options,
    space: args.space,
    seed: args.seed,
    log: args.log,
  } as never)
}

/** Runs one evaluation; never throws. */
export async function runEvaluation(
  evaluator: Evaluator,
  space: SearchSpace,
  task: EvalTask,
  signal: AbortSignal,
  progress: (p: Progress) => void,
): Promise<EvalOutcome> {
  const rng = Rng.fromState(task.rngState)
  const seed = rng.seed()
  try {
    const metrics = await evaluator.evaluate(task.arch, {
      trialId: task.trialId,
      seed,
      rng,
      signal,
      progress,
      space,
      ...(task.fidelity ? { fidelity: task.fidelity } : {}),
    })
    return { metrics }
  } catch (error) {
    return { error: toEvalError(error) }
  }
}
