import {
  type Arch,
  type Evaluation,
  type Evaluator,
  type EvaluatorPlugin,
  evaluateTrial,
  type Fidelity,
  type Logger,
  type Metrics,
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
  /**
   * Time limit of the evaluation in milliseconds (the experiment's `trialTimeout`); the
   * executor that runs it fails it with `E_TRIAL_TIMEOUT` once it runs longer.
   */
  timeoutMs?: number
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

/**
 * Runs one evaluation with the task's RNG stream; never throws. Its metrics are checked with
 * {@link storableOutcome}, so that they can be sent between threads and stored.
 */
export async function runEvaluation(
  evaluator: Evaluator,
  space: SearchSpace,
  task: EvalTask,
  signal: AbortSignal,
  progress: (p: Progress) => void,
): Promise<Evaluation> {
  const startedAt = Date.now()
  try {
    const evaluation = await evaluateTrial(
      evaluator,
      { id: task.trialId, arch: task.arch, ...(task.fidelity ? { fidelity: task.fidelity } : {}) },
      { space, rng: Rng.fromState(task.rngState), signal, progress },
    )
    return { ...evaluation, outcome: storableOutcome(evaluation.outcome) }
  } catch (error) {
    // an error whose message cannot even be read (a throwing getter or toString)
    return {
      outcome: { error: { code: 'E_EVALUATION_FAILED', message: describeThrown(error) } },
      startedAt,
      finishedAt: Date.now(),
    }
  }
}

function describeThrown(error: unknown): string {
  try {
    return `The evaluator failed: ${String((error as { message?: unknown })?.message ?? error)}`
  } catch {
    return 'The evaluator failed with an error that cannot be shown.'
  }
}

const BAD_METRIC_FIX =
  'Metrics must be numbers, strings, booleans or null (or plain JSON objects and arrays): convert the value or leave it out.'

function badMetric(name: string, problem: string): EvalOutcome {
  return {
    error: {
      code: 'E_BAD_METRICS',
      message: `The evaluator returned metric "${name}" as ${problem}, which cannot be stored. ${BAD_METRIC_FIX}`,
    },
  }
}

/**
 * An outcome whose metrics the store can write and a worker thread can send: a metric that is a
 * BigInt, a function, a symbol, or an object that cannot be written as JSON (circular, holding a
 * BigInt) fails the trial with `E_BAD_METRICS` naming it. Object values become their JSON form;
 * `undefined` values are left out (as JSON leaves them out).
 */
export function storableOutcome(outcome: EvalOutcome): EvalOutcome {
  if (!('metrics' in outcome)) return outcome
  const metrics = outcome.metrics as unknown
  if (metrics === null || typeof metrics !== 'object') return outcome
  let entries: Array<[string, unknown]>
  try {
    entries = Object.entries(metrics)
  } catch (error) {
    return {
      error: {
        code: 'E_BAD_METRICS',
        message: `The evaluator returned metrics that cannot be read (${describeThrown(error)}). ${BAD_METRIC_FIX}`,
      },
    }
  }
  const out: Record<string, unknown> = {}
  for (const [name, value] of entries) {
    switch (typeof value) {
      case 'number':
      case 'string':
      case 'boolean':
        out[name] = value
        break
      case 'undefined':
        break
      case 'bigint':
        return badMetric(name, `a BigInt (${String(value)}n)`)
      case 'function':
        return badMetric(name, 'a function')
      case 'symbol':
        return badMetric(name, 'a symbol')
      default: {
        if (value === null) {
          out[name] = null
          break
        }
        let json: string | undefined
        try {
          json = JSON.stringify(value)
        } catch (error) {
          return badMetric(
            name,
            `an object that cannot be written as JSON (${(error as Error)?.message ?? String(error)})`,
          )
        }
        out[name] = json === undefined ? null : (JSON.parse(json) as unknown)
      }
    }
  }
  return { metrics: out as Metrics }
}
