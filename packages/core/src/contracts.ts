import { NaskitError } from './errors'
import type { JsonValue } from './json'
import { type InferOptions, type OptionsSchema, validateOptions } from './options'
import { Rng } from './rng'
import type { SearchSpace } from './space/space'
import type { Arch } from './space/types'

/** A metric value reported by an evaluator. */
export type MetricValue = number | string | boolean | null

/** What an evaluation returns: `objective` (higher is better) and any other named figures. */
export interface Metrics {
  objective: number
  [name: string]: MetricValue
}

/** How much effort an evaluation spends (multi-fidelity strategies vary it). */
export interface Fidelity {
  epochs?: number
  dataFraction?: number
  [name: string]: number | undefined
}

/** Progress of one long piece of work. */
export interface Progress {
  /** Fraction done in [0, 1]. */
  fraction: number
  message?: string
  metrics?: Record<string, number>
}

/** Minimal logger; hosts route it to their output. */
export interface Logger {
  info(message: string): void
  warn(message: string): void
  debug?(message: string): void
}

/** A candidate proposed by a strategy. */
export interface Proposal {
  arch: Arch
  /** Opaque data the strategy wants back with the result (stored with the trial). */
  meta?: JsonValue
  fidelity?: Fidelity
  /**
   * Multi-fidelity promotion: the id of an earlier trial of the same architecture, at a lower
   * fidelity, that this one continues. A host and an evaluator that keep a trial's trained
   * state resume from it and spend only the extra fidelity; the others train from scratch at
   * `fidelity`. Either way the result is this proposal's own trial.
   */
  continueFrom?: number
}

/** A finished trial, as told to a strategy and stored by the runner. */
export interface TrialResult {
  /** Unique, increasing within an experiment, assigned by the host when the trial is asked. */
  id: number
  arch: Arch
  key: string
  status: 'ok' | 'failed'
  /** The objective; null when the trial failed. Strategies must also tolerate NaN. */
  objective: number | null
  metrics: Record<string, MetricValue>
  error?: { code: string; message: string }
  timings?: { startedAt: number; finishedAt: number; durationMs: number }
  meta?: JsonValue
  fidelity?: Fidelity
  worker?: string
}

/** Whether a strategy has more to propose. */
export type StrategyStatus =
  | { done: false }
  | { done: true; reason: 'exhausted' | 'converged' | 'finished'; message: string }

/** What every strategy is created with. */
export interface StrategyContext<O> {
  space: SearchSpace
  /** Validated options with defaults filled in. */
  options: O
  /** The strategy's own random stream; its state is the strategy's to checkpoint. */
  rng: Rng
  seed: number
  log: Logger
}

/**
 * An ask/tell strategy. The host owns evaluation, so it can evaluate in parallel, on other
 * machines, and resume after crashes. Call order: `ask` whenever a slot frees up; `tell`
 * as results finish (any order, some failed); `state` after each `tell` for checkpoints;
 * `restore` once, right after `create`, when resuming.
 */
export interface SamplingStrategy {
  /** Up to `n` new candidates. Fewer (or none) means "nothing now"; see `status`. */
  ask(n: number): Proposal[] | Promise<Proposal[]>
  /** Learns from finished trials, in any order, failed ones included. */
  tell(results: readonly TrialResult[]): void | Promise<void>
  /** A JSON snapshot; `restore` in a fresh instance continues the exact sequence. */
  state(): JsonValue
  restore(state: JsonValue): void
  /** Defaults to "not done". A done strategy ends the search with its message. */
  status?(): StrategyStatus
  dispose?(): void | Promise<void>
}

/** What the host gives a one-shot strategy for its supernet training loop. */
export interface OneShotRunContext {
  /** The experiment's budget, as the strategy should read it (epochs, wall time). */
  budget: { epochs?: number; timeMs?: number; [name: string]: number | undefined }
  signal: AbortSignal
  progress(p: Progress): void
  /** Persists the strategy's state (JSON) and binary blobs (weights); call it every epoch. */
  checkpoint(state: JsonValue, blobs?: Record<string, Uint8Array>): Promise<void>
  /** The last checkpoint, when resuming. */
  resume?: { state: JsonValue; blobs: Record<string, Uint8Array> }
  /** What the host offers: the experiment's data, backend, seed, space, log, strategies. */
  services: OneShotServices
}

/**
 * What a host offers one-shot strategies in {@link OneShotRunContext.services}, so that they
 * search on the experiment's own data with its backend rather than on defaults of their own.
 * Every field is optional: a strategy falls back to its options for what is missing. `D` is
 * the dataset type of the trainer a strategy uses (for `@naskit/trainer-tfjs`, its `Dataset`).
 */
export interface OneShotServices<D = unknown> {
  /**
   * The experiment's data, as its evaluator loads it: a function to call once (hosts give one,
   * so that nothing loads until needed), or the data itself.
   */
  dataset?: (() => D | Promise<D>) | D
  /** The backend the experiment's evaluator trains on (`auto`, `wasm`, `tensorflow`, …). */
  backend?: string
  /** The experiment's seed. */
  seed?: number
  /** The experiment's search space. */
  space?: SearchSpace
  /** Where log lines go. */
  log?: Logger
  /** Sampling strategies by name, as the host resolves them. */
  strategies?: Record<string, StrategyPlugin>
  /** The experiment's evaluator, by name, with its validated options. */
  evaluator?: { name: string; options: unknown }
  /** Anything else a host offers, by name. */
  [name: string]: unknown
}

/** The architectures a one-shot search found, best first. */
export interface OneShotResult {
  architectures: Array<Proposal & { score?: number }>
  details?: JsonValue
}

/** A strategy that trains a supernet itself and returns architectures to evaluate. */
export interface OneShotStrategy {
  run(ctx: OneShotRunContext): Promise<OneShotResult>
  dispose?(): void | Promise<void>
}

interface PluginBase<S extends OptionsSchema> {
  /** Short name, e.g. `evolution`. */
  name: string
  description: string
  /** The plugin's version, shown by hosts and checked across machines. */
  version?: string
  options: S
  /** True, or the reason why the space is not supported. */
  supports?(space: SearchSpace): true | string
}

export interface SamplingStrategyPlugin<S extends OptionsSchema = OptionsSchema>
  extends PluginBase<S> {
  kind: 'sampling'
  create(ctx: StrategyContext<InferOptions<S>>): SamplingStrategy
}

export interface OneShotStrategyPlugin<S extends OptionsSchema = OptionsSchema>
  extends PluginBase<S> {
  kind: 'one-shot'
  create(ctx: StrategyContext<InferOptions<S>>): OneShotStrategy
}

/** A strategy plugin: default-export one of these from a `naskit-strategy-*` package. */
export type StrategyPlugin<S extends OptionsSchema = OptionsSchema> =
  | SamplingStrategyPlugin<S>
  | OneShotStrategyPlugin<S>

/** Typed identity helper for writing a plugin. */
export function defineStrategy<const S extends OptionsSchema>(
  plugin: SamplingStrategyPlugin<S>,
): SamplingStrategyPlugin<S>
export function defineStrategy<const S extends OptionsSchema>(
  plugin: OneShotStrategyPlugin<S>,
): OneShotStrategyPlugin<S>
export function defineStrategy(plugin: StrategyPlugin): StrategyPlugin {
  return plugin
}

/** Checks that a loaded module export is a strategy plugin; `E_BAD_PLUGIN` says what is missing. */
export function assertStrategyPlugin(value: unknown, from = 'plugin'): StrategyPlugin {
  const p = value as Partial<StrategyPlugin> | null
  const missing: string[] = []
  if (p === null || typeof p !== 'object') {
    throw new NaskitError(
      'E_BAD_PLUGIN',
      `${from} does not export a strategy plugin object (got ${typeof value}).`,
    )
  }
  if (typeof p.name !== 'string' || p.name === '') missing.push('name (string)')
  if (typeof p.description !== 'string') missing.push('description (string)')
  if (p.kind !== 'sampling' && p.kind !== 'one-shot')
    missing.push("kind ('sampling' or 'one-shot')")
  if (p.options === null || typeof p.options !== 'object') missing.push('options (schema object)')
  if (typeof p.create !== 'function') missing.push('create(ctx) function')
  if (missing.length > 0)
    throw new NaskitError(
      'E_BAD_PLUGIN',
      `${from} is not a valid strategy plugin; missing or wrong: ${missing.join(', ')}.`,
    )
  return p as StrategyPlugin
}

const silentLogger: Logger = { info() {}, warn() {} }

/**
 * Validates options, checks that the plugin supports the space, and creates the strategy
 * with its own RNG stream derived from `seed`.
 */
export function createStrategy<S extends OptionsSchema>(
  plugin: SamplingStrategyPlugin<S>,
  args: { space: SearchSpace; options?: unknown; seed?: number; log?: Logger },
): SamplingStrategy
export function createStrategy<S extends OptionsSchema>(
  plugin: OneShotStrategyPlugin<S>,
  args: { space: SearchSpace; options?: unknown; seed?: number; log?: Logger },
): OneShotStrategy
export function createStrategy(
  plugin: StrategyPlugin,
  args: { space: SearchSpace; options?: unknown; seed?: number; log?: Logger },
): SamplingStrategy | OneShotStrategy
export function createStrategy(
  plugin: StrategyPlugin,
  args: { space: SearchSpace; options?: unknown; seed?: number; log?: Logger },
): SamplingStrategy | OneShotStrategy {
  const options = validateOptions(
    plugin.options,
    args.options,
    `options of strategy "${plugin.name}"`,
  )
  const support = plugin.supports ? plugin.supports(args.space) : true
  if (support !== true) {
    throw new NaskitError(
      'E_UNSUPPORTED_SPACE',
      `Strategy "${plugin.name}" does not support space "${args.space.name}": ${support}`,
    )
  }
  const seed = args.seed ?? 0
  const rng = new Rng(seed).fork(`strategy:${plugin.name}`)
  return plugin.create({
    space: args.space,
    options,
    rng,
    seed,
    log: args.log ?? silentLogger,
  } as never)
}

/** What an evaluation is given. */
export interface EvalContext {
  trialId: number
  /** Seed of this trial (derived from the experiment seed and the trial id). */
  seed: number
  rng: Rng
  fidelity?: Fidelity
  signal: AbortSignal
  progress(p: Progress): void
  space: SearchSpace
}

/** Trains or looks up an architecture and returns its metrics. */
export interface Evaluator {
  name: string
  evaluate(arch: Arch, ctx: EvalContext): Metrics | Promise<Metrics>
  /**
   * Optional: trains the architecture as `evaluate` would (same context, so the same seed
   * stream) and saves the resulting model into `dir` in the evaluator's own format (for the
   * TensorFlow.js trainer: model.json and weights). Returns the metrics of that model and the
   * files written. `naskit export --format <format>` calls it for the best trials.
   */
  exportModel?(
    arch: Arch,
    ctx: EvalContext & { dir: string; format: string },
  ): Promise<ExportedModel>
  dispose?(): void | Promise<void>
}

/** What {@link Evaluator.exportModel} wrote. */
export interface ExportedModel {
  format: string
  dir: string
  files: string[]
  metrics: Metrics
}

/** An evaluator plugin, loadable by name. */
export interface EvaluatorPlugin<S extends OptionsSchema = OptionsSchema> {
  name: string
  description: string
  version?: string
  options: S
  /** `cheap` evaluators (tables, formulas) may run in-process; `expensive` ones on workers. */
  cost: 'cheap' | 'expensive'
  supports?(space: SearchSpace): true | string
  create(args: {
    options: InferOptions<S>
    space: SearchSpace
    seed: number
    log: Logger
  }): Evaluator | Promise<Evaluator>
  /**
   * The data this evaluator trains on, for one-shot strategies that train a supernet on the
   * experiment's data (hosts pass it as {@link OneShotServices.dataset}). Optional.
   */
  dataset?(args: { options: InferOptions<S>; log: Logger }): Promise<unknown>
  /** The backend this evaluator trains on, for the same strategies. Optional. */
  backend?(options: InferOptions<S>): string
}

/** Typed identity helper for writing an evaluator plugin. */
export function defineEvaluator<const S extends OptionsSchema>(
  plugin: EvaluatorPlugin<S>,
): EvaluatorPlugin<S> {
  return plugin
}

/** Why a trial failed: a stable code and a message. */
export interface TrialError {
  code: string
  message: string
}

/**
 * Turns anything thrown into a {@link TrialError}: its own `code` when that is a non-empty
 * string (else `fallbackCode`) and its `message` (else the value as a string). Serialisable, so
 * it can travel from worker threads and other machines.
 */
export function toTrialError(error: unknown, fallbackCode = 'E_EVALUATION_FAILED'): TrialError {
  const e = error as { code?: unknown; message?: unknown } | null | undefined
  const code = typeof e?.code === 'string' && e.code !== '' ? e.code : fallbackCode
  const message = typeof e?.message === 'string' ? e.message : String(error)
  return { code, message }
}

/**
 * Turns an evaluation outcome into a {@link TrialResult}: an error (normalised by
 * {@link toTrialError}) or a non-finite objective becomes a failed trial with its reason.
 */
export function toTrialResult(args: {
  id: number
  arch: Arch
  key: string
  outcome: { metrics: Metrics } | { error: unknown }
  meta?: JsonValue
  timings?: TrialResult['timings']
  fidelity?: Fidelity
  worker?: string
}): TrialResult {
  const base = {
    id: args.id,
    arch: args.arch,
    key: args.key,
    ...(args.meta === undefined ? {} : { meta: args.meta }),
    ...(args.timings === undefined ? {} : { timings: args.timings }),
    ...(args.fidelity === undefined ? {} : { fidelity: args.fidelity }),
    ...(args.worker === undefined ? {} : { worker: args.worker }),
  }
  if ('error' in args.outcome) {
    const error = toTrialError(args.outcome.error)
    return { ...base, status: 'failed', objective: null, metrics: {}, error }
  }
  const m = args.outcome.metrics
  if (
    m === null ||
    typeof m !== 'object' ||
    typeof m.objective !== 'number' ||
    !Number.isFinite(m.objective)
  ) {
    const o: unknown = m !== null && typeof m === 'object' ? m.objective : undefined
    const message =
      m === null || typeof m !== 'object'
        ? `The evaluator returned ${JSON.stringify(m) ?? String(m)} instead of metrics; return { objective: <number>, … }.`
        : o === undefined
          ? 'The evaluator returned metrics without an objective; return { objective: <number>, … }.'
          : typeof o === 'number'
            ? `The evaluator returned a non-finite objective (${o}).`
            : `The evaluator returned an objective that is ${typeof o === 'string' ? `a string (${JSON.stringify(o)})` : o === null ? 'null' : `of type ${typeof o}`}, not a number; return a finite number (convert it with Number(…)).`
    return {
      ...base,
      status: 'failed',
      objective: null,
      metrics: m !== null && typeof m === 'object' ? { ...m, objective: null } : {},
      error: { code: 'E_BAD_METRICS', message },
    }
  }
  return { ...base, status: 'ok', objective: m.objective, metrics: { ...m } }
}
