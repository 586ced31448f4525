import {
  type Arch,
  type Evaluation,
  type Evaluator,
  type EvaluatorPlugin,
  evaluateTrial,
  type Fidelity,
  type Logger,
  type Progress,
  Rng,
  type RngState,
  type SearchSpace,
  trialRng,
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

/** What an evaluation produced (a thrown error as its `{ code, message }`). */
export type EvalOutcome = Evaluation['outcome']

/** An evaluation outcome with where and when it ran. */
export interface EvalReport extends Evaluation {
  worker: string
}

/** Seed an evaluator instance is created with: its own stream per worker. */
export function evaluatorSeed(seed: number, workerIndex: number): number {
  return new Rng(seed).fork('evaluator').fork(workerIndex).seed()
}

/** The RNG stream of a trial: the same whichever worker runs it. */
export function trialRngState(seed: number, trialId: number): RngState {
  return trialRng(seed, trialId).state()
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

/** Runs one evaluation with the task's RNG stream; never throws. */
export async function runEvaluation(
  evaluator: Evaluator,
  space: SearchSpace,
  task: EvalTask,
  signal: AbortSignal,
  progress: (p: Progress) => void,
): Promise<Evaluation> {
  return await evaluateTrial(
    evaluator,
    { id: task.trialId, arch: task.arch, ...(task.fidelity ? { fidelity: task.fidelity } : {}) },
    { space, rng: Rng.fromState(task.rngState), signal, progress },
  )
}
