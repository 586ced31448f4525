import { randomUUID } from 'node:crypto'
import { existsSync, mkdirSync, statSync } from 'node:fs'
import { resolve as resolvePath } from 'node:path'
import {
  createStrategy,
  type EvaluatorPlugin,
  type JsonObject,
  type JsonValue,
  type Logger,
  NaskitError,
  type OneShotStrategy,
  type Proposal,
  type SamplingStrategy,
  SearchSpace,
  type SpaceSpec,
  type StrategyPlugin,
  type StrategyStatus,
  type TrialResult,
  toTrialResult,
  validateOptions,
} from '@naskit/core'
import {
  type Budget,
  CONFIG_DEFAULTS,
  checkConfigFields,
  isPluginObject,
  type NaskitConfig,
  normalizeBudget,
  resolveSpace,
  splitPluginInput,
} from './config'
import { canonicalJson } from './canonical'
import { trialRngState } from './evaluate'
import { type Executor, InlineExecutor, ThreadExecutor } from './executor'
import { isRedisUrl, redactRedisUrl } from './redis/connection'
import { assertDistributable, RedisExecutor } from './redis/executor'
import { DEFAULT_QUEUE } from './redis/protocol'
import { acquireLock } from './lock'
import { isPathSpecifier, runnerVersion } from './modules'
import { type LoadedEvaluator, type LoadedStrategy, loadEvaluator, loadStrategy } from './plugins'
import { type StoredTrial, Store } from './store'

/** The configuration an experiment was created with, as stored in its database. */
export interface StoredConfig {
  space: SpaceSpec
  strategy: { spec: string | null; name: string; options: JsonObject }
  evaluator: { spec: string | null; name: string; options: JsonObject }
  budget: Budget
  workers: number
  seed: number
  maxFailures: number | null
  /** `auto`, `threads`, `inline`, or a Redis URL without its credentials. */
  executor: string
  /** The Redis queue (with a Redis executor). */
  queue?: string
  graceMs: number
}

/** Why a search ended. */
export type EndReason =
  | 'budget'
  | 'time'
  | 'target'
  | 'strategy'
  | 'idle'
  | 'interrupted'
  | 'max-failures'

/** Events of a running experiment (the CLI's progress and `--json` output). */
export type RunEvent =
  | {
      type: 'start'
      dir: string
      resumed: boolean
      space: string
      strategy: string
      evaluator: string
      executor: 'inline' | 'threads' | 'redis'
      workers: number
      budget: Budget
      done: number
      failed: number
      rerun: number
      /** Run time of earlier sessions. */
      elapsedMs: number
    }
  | {
      type: 'trial'
      trial: TrialResult
      done: number
      failed: number
      running: number
      best: { id: number; objective: number } | null
      elapsedMs: number
      budget: Budget
    }
  | { type: 'progress'; trialId: number; fraction: number; message?: string }
  | { type: 'one-shot'; fraction: number; message?: string; metrics?: Record<string, number> }
  | {
      type: 'stopping'
      reason: EndReason
      message: string
      running: number
      graceMs: number | null
    }
  | { type: 'warning'; message: string }
  | {
      type: 'end'
      dir: string
      status: 'completed' | 'interrupted' | 'failed'
      reason: EndReason
      message: string
      done: number
      failed: number
      best: { id: number; objective: number } | null
      elapsedMs: number
      resumeCommand: string | null
    }

/** Options of {@link runExperiment}. */
export interface RunExperimentOptions {
  /**
   * What to run. May be partial (or absent) when resuming: missing parts come from the
   * experiment's stored configuration.
   */
  config?: Partial<NaskitConfig>
  /** Experiment folder; overrides `config.out`. */
  out?: string
  /** Where relative paths and plugin names resolve from. @default process.cwd() */
  baseDir?: string
  /**
   * When resuming with a different space, strategy, evaluator or seed: `error` throws
   * `E_CONFIG_MISMATCH`; `new` starts a new experiment in a fresh folder (`DIR-2`, `DIR-3`…).
   * @default 'error'
   */
  onMismatch?: 'error' | 'new'
  /** Aborting stops asking, lets running trials finish within the grace period, and returns. */
  signal?: AbortSignal
  onEvent?(event: RunEvent): void
  log?: Logger
}

/** Outcome of {@link runExperiment}. */
export interface RunExperimentResult {
  dir: string
  status: 'completed' | 'interrupted' | 'failed'
  reason: EndReason
  message: string
  resumed: boolean
  /** Finished trials (ok and failed), by id. */
  trials: StoredTrial[]
  best: StoredTrial | null
  /** `naskit search --out DIR`, when the experiment can be continued. */
  resumeCommand: string | null
}

const silentLog: Logger = { info() {}, warn() {} }

function badConfig(message: string): NaskitError {
  return new NaskitError('E_BAD_CONFIG', `Invalid experiment configuration: ${message}.`)
}

function defaultOut(baseDir: string, space: string, strategy: string): string {
  const d = new Date()
  const p = (n: number) => String(n).padStart(2, '0')
  const stamp = `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`
  return resolvePath(baseDir, 'runs', `${space}-${strategy}-${stamp}`)
}

function nextFreeDir(dir: string): string {
  for (let i = 2; ; i++) {
    const candidate = `${dir}-${i}`
    if (!existsSync(candidate)) return candidate
  }
}

function describeDiff(stored: StoredConfig, next: StoredConfig): string[] {
  const diffs: string[] = []
  if (canonicalJson(stored.space) !== canonicalJson(next.space))
    diffs.push(`space: "${stored.space.name}" as stored differs from "${next.space.name}" now`)
  if (stored.strategy.name !== next.strategy.name)
    diffs.push(`strategy: ${stored.strategy.name} → ${next.strategy.name}`)
  else if (canonicalJson(stored.strategy.options) !== canonicalJson(next.strategy.options)) {
    diffs.push(
      `strategy options: ${canonicalJson(stored.strategy.options)} → ${canonicalJson(next.strategy.options)}`,
    )
  }
  if (stored.evaluator.name !== next.evaluator.name)
    diffs.push(`evaluator: ${stored.evaluator.name} → ${next.evaluator.name}`)
  else if (canonicalJson(stored.evaluator.options) !== canonicalJson(next.evaluator.options)) {
    diffs.push(
      `evaluator options: ${canonicalJson(stored.evaluator.options)} → ${canonicalJson(next.evaluator.options)}`,
    )
  }
  if (stored.seed !== next.seed) diffs.push(`seed: ${stored.seed} → ${next.seed}`)
  return diffs
}

/** A spec as stored: path specifiers become absolute, so a resume from elsewhere finds them. */
function storedSpec(spec: string | null, baseDir: string): string | null {
  if (spec === null || !isPathSpecifier(spec)) return spec
  const hash = spec.lastIndexOf('#')
  const [path, pick] = hash > 0 ? [spec.slice(0, hash), spec.slice(hash)] : [spec, '']
  return path.startsWith('file:') ? spec : resolvePath(baseDir, path) + pick
}

interface Prepared {
  config: StoredConfig
  /** The Redis URL as given (with its credentials), when the executor is Redis. */
  executorUrl: string | null
  space: SearchSpace
  strategy: LoadedStrategy
  evaluator: LoadedEvaluator
}

async function prepare(
  input: Partial<NaskitConfig>,
  stored: StoredConfig | undefined,
  baseDir: string,
): Promise<Prepared> {
  const space =
    input.space !== undefined
      ? resolveSpace(input.space)
      : stored
        ? SearchSpace.fromJSON(stored.space)
        : null
  if (!space)
    throw badConfig('space: required (a built-in name such as "nb201", or a space object)')

  let strategy: LoadedStrategy
  let strategyOptions: JsonObject
  if (input.strategy !== undefined) {
    const s = splitPluginInput<StrategyPlugin>(input.strategy, isPluginObject)
    strategy = await loadStrategy(s.use, baseDir)
    strategyOptions = s.options
  } else if (stored) {
    if (stored.strategy.spec === null) {
      throw badConfig(
        `strategy: the experiment used a strategy object ("${stored.strategy.name}"); pass the same config again to resume it`,
      )
    }
    strategy = await loadStrategy(stored.strategy.spec, baseDir)
    strategyOptions = stored.strategy.options
  } else {
    strategy = await loadStrategy('random', baseDir)
    strategyOptions = {}
  }

  let evaluator: LoadedEvaluator
  let evaluatorOptions: JsonObject
  if (input.evaluator !== undefined) {
    const e = splitPluginInput<EvaluatorPlugin>(input.evaluator, isPluginObject)
    evaluator = await loadEvaluator(e.use, baseDir)
    evaluatorOptions = e.options
  } else if (stored) {
    if (stored.evaluator.spec === null) {
      throw badConfig(
        `evaluator: the experiment used an evaluator object ("${stored.evaluator.name}"); pass the same config again to resume it`,
      )
    }
    evaluator = await loadEvaluator(stored.evaluator.spec, baseDir)
    evaluatorOptions = stored.evaluator.options
  } else {
    throw badConfig(
      'evaluator: required (e.g. "nb201", "mnist", or a module path such as ./my-evaluator.ts)',
    )
  }

  const sOpts = validateOptions(
    strategy.plugin.options,
    strategyOptions,
    `options of strategy "${strategy.plugin.name}"`,
  ) as JsonObject
  const eOpts = validateOptions(
    evaluator.plugin.options,
    evaluatorOptions,
    `options of evaluator "${evaluator.plugin.name}"`,
  ) as JsonObject
  const support = evaluator.plugin.supports ? evaluator.plugin.supports(space) : true
  if (support !== true) {
    throw new NaskitError(
      'E_UNSUPPORTED_SPACE',
      `Evaluator "${evaluator.plugin.name}" does not support space "${space.name}": ${support}`,
    )
  }

  const workers = input.workers ?? stored?.workers ?? CONFIG_DEFAULTS.workers
  if (!Number.isInteger(workers) || workers < 1)
    throw badConfig(`workers: must be a positive integer, got ${workers}`)
  const seed = input.seed ?? stored?.seed ?? CONFIG_DEFAULTS.seed
  if (!Number.isFinite(seed)) throw badConfig(`seed: must be a number, got ${seed}`)
  const maxFailures = input.maxFailures ?? stored?.maxFailures ?? null
  if (maxFailures !== null && (!Number.isInteger(maxFailures) || maxFailures < 1)) {
    throw badConfig(`maxFailures: must be a positive integer, got ${maxFailures}`)
  }
  const executorInput: string = input.executor ?? stored?.executor ?? CONFIG_DEFAULTS.executor
  if (!['auto', 'threads', 'inline'].includes(executorInput) && !isRedisUrl(executorInput))
    throw badConfig(
      `executor: must be auto, threads, inline or a redis://host:port URL, got ${executorInput}`,
    )
  // a Redis URL keeps its password out of the store; the given one is used for this session
  const executor = isRedisUrl(executorInput) ? redactRedisUrl(executorInput) : executorInput
  if (isRedisUrl(executorInput))
    assertDistributable({ spec: evaluator.spec, name: evaluator.plugin.name })
  const queue = input.queue ?? stored?.queue ?? DEFAULT_QUEUE
  if (typeof queue !== 'string' || !/^[A-Za-z0-9_.-]+$/.test(queue))
    throw badConfig(`queue: letters, digits, '.', '_' and '-' only, got ${JSON.stringify(queue)}`)
  const graceMs = input.graceMs ?? stored?.graceMs ?? CONFIG_DEFAULTS.graceMs
  const budget =
    input.budget !== undefined
      ? normalizeBudget(input.budget)
      : (stored?.budget ?? normalizeBudget(undefined))

  return {
    space,
    strategy,
    evaluator,
    config: {
      space: space.toJSON(),
      strategy: {
        spec: storedSpec(strategy.spec, baseDir),
        name: strategy.plugin.name,
        options: sOpts,
      },
      evaluator: {
        spec: storedSpec(evaluator.spec, baseDir),
        name: evaluator.plugin.name,
        options: eOpts,
      },
      budget,
      workers,
      seed,
      maxFailures,
      executor,
      ...(isRedisUrl(executor) ? { queue } : {}),
      graceMs,
    },
    executorUrl: isRedisUrl(executorInput) ? executorInput : null,
  }
}

/** Reads the stored configuration of an experiment folder (no lock taken). */
export function readExperimentConfig(dir: string): StoredConfig | undefined {
  if (!Store.exists(dir)) return undefined
  const store = Store.open(dir, { readonly: true })
  try {
    return store.getMeta<StoredConfig>('config')
  } finally {
    store.close()
  }
}

/**
 * Runs (or resumes) an experiment: trials are asked from the strategy as evaluation slots
 * free up, evaluated in-process or on worker threads, told back as they finish (in any
 * order), and stored with the strategy's checkpoint in one transaction, so the experiment
 * survives being killed at any moment.
 */
export async function runExperiment(opts: RunExperimentOptions): Promise<RunExperimentResult> {
  const baseDir = resolvePath(opts.baseDir ?? process.cwd())
  const input = opts.config ?? {}
  checkConfigFields(input)
  const outGiven = opts.out ?? input.out
  let dir = outGiven === undefined ? null : resolvePath(baseDir, outGiven)
  if (dir !== null && existsSync(dir) && !statSync(dir).isDirectory()) {
    throw new NaskitError(
      'E_BAD_CONFIG',
      `The experiment folder ${dir} is a file; choose a folder with --out.`,
    )
  }

  // (a store without a stored config was created, then killed before its first commit: a new experiment)
  const storedForDir: StoredConfig | undefined = dir ? readExperimentConfig(dir) : undefined
  const prepared = await prepare(input, storedForDir, baseDir)
  if (dir === null) dir = defaultOut(baseDir, prepared.space.name, prepared.strategy.plugin.name)

  if (storedForDir) {
    const diffs = describeDiff(storedForDir, prepared.config)
    if (diffs.length > 0) {
      if (opts.onMismatch === 'new') {
        // the new experiment takes the stored configuration with the given changes
        dir = nextFreeDir(dir)
      } else {
        throw new NaskitError(
          'E_CONFIG_MISMATCH',
          `The experiment in ${dir} was created with a different configuration:\n  - ${diffs.join('\n  - ')}\nResume it with its own configuration (\`naskit search --out ${dir}\`), choose another --out folder, or pass --new to start a new experiment next to it.`,
          { details: { diffs } },
        )
      }
    }
  }

  mkdirSync(dir, { recursive: true })
  const lock = acquireLock(dir)
  let store: Store | null = null
  try {
    store = Store.open(dir, { create: true })
    return await runLocked(opts, dir, store, prepared)
  } finally {
    store?.close()
    lock.release()
  }
}

async function runLocked(
  opts: RunExperimentOptions,
  dir: string,
  store: Store,
  prepared: Prepared,
): Promise<RunExperimentResult> {
  const emit = (e: RunEvent) => opts.onEvent?.(e)
  // What the strategy and the evaluators (on any executor) warn about reaches the caller's
  // logger and, once per distinct message (each worker thread has its own evaluator), the
  // event stream that the CLI prints.
  const userLog = opts.log ?? silentLog
  const warned = new Set<string>()
  const log: Logger = {
    info: (message) => userLog.info(message),
    warn: (message) => {
      userLog.warn(message)
      if (warned.has(message)) return
      warned.add(message)
      emit({ type: 'warning', message })
    },
  }
  const { config, space } = prepared
  const existing = store.getMeta<StoredConfig>('config')
  const resumed = existing !== undefined
  if (existing) {
    const diffs = describeDiff(existing, config)
    if (diffs.length > 0) {
      throw new NaskitError(
        'E_CONFIG_MISMATCH',
        `The experiment in ${dir} was created with a different configuration:\n  - ${diffs.join('\n  - ')}`,
      )
    }
  }
  const versions: Record<string, string | null> = {
    '@naskit/runner': runnerVersion() ?? null,
    node: process.version,
    [prepared.strategy.ref?.packageName ?? `strategy:${config.strategy.name}`]:
      prepared.strategy.ref?.version ?? prepared.strategy.plugin.version ?? null,
    [prepared.evaluator.ref?.packageName ?? `evaluator:${config.evaluator.name}`]:
      prepared.evaluator.ref?.version ?? prepared.evaluator.plugin.version ?? null,
  }
  store.transaction(() => {
    if (!resumed) {
      store.setMeta('format', { name: 'naskit-experiment', version: 1 })
      store.setMeta('createdAt', Date.now())
    }
    store.setMeta('config', config)
    store.setMeta('versions', versions)
    store.setMeta('status', { status: 'running', pid: process.pid })
    store.event(resumed ? 'resumed' : 'created', { versions })
  })

  const resumeCommand = `naskit search --out ${dir}`
  const finishedBefore = store.trials()
  const priorElapsed = Math.max(
    0,
    store.getMeta<number>('elapsedMs') ?? 0,
    ...finishedBefore.map((t) => t.elapsedMs ?? 0),
  )
  const sessionStart = Date.now()
  const elapsed = () => priorElapsed + (Date.now() - sessionStart)

  let done = 0
  let failed = 0
  let best: { id: number; objective: number } | null = null
  const account = (t: TrialResult) => {
    done++
    if (t.status === 'failed') failed++
    else if (t.objective !== null && (best === null || t.objective > best.objective))
      best = { id: t.id, objective: t.objective }
  }
  for (const t of finishedBefore) account(t)

  // The executor: expensive evaluators on threads (when loadable by module), cheap in-process.
  const useThreads =
    config.executor === 'threads' ||
    (config.executor === 'auto' && prepared.evaluator.plugin.cost === 'expensive')
  if (useThreads && !prepared.evaluator.ref) {
    emit({
      type: 'warning',
      message: `Evaluator "${config.evaluator.name}" was given as an object, so it runs in-process; give it as a module path to use worker threads.`,
    })
  }
  let experimentId = store.getMeta<string>('experimentId')
  if (experimentId === undefined) {
    experimentId = randomUUID()
    store.setMeta('experimentId', experimentId)
  }
  const executor: Executor = isRedisUrl(config.executor)
    ? new RedisExecutor({
        url: prepared.executorUrl ?? config.executor,
        queue: config.queue ?? DEFAULT_QUEUE,
        experimentId,
        evaluator: {
          spec: config.evaluator.spec as string,
          name: config.evaluator.name,
          options: config.evaluator.options,
          version: prepared.evaluator.ref?.version ?? prepared.evaluator.plugin.version ?? null,
          packageName: prepared.evaluator.ref?.packageName ?? null,
        },
        space: config.space,
        seed: config.seed,
        slots: config.workers,
        log,
        ...(opts.signal ? { signal: opts.signal } : {}),
      })
    : useThreads && prepared.evaluator.ref
      ? new ThreadExecutor({
          ref: prepared.evaluator.ref,
          options: config.evaluator.options,
          space,
          seed: config.seed,
          log,
          slots: config.workers,
        })
      : new InlineExecutor({
          plugin: prepared.evaluator.plugin,
          options: config.evaluator.options,
          space,
          seed: config.seed,
          log,
          slots: config.workers,
        })

  let sampling: SamplingStrategy
  let oneShot: OneShotStrategy | null = null
  const plugin = prepared.strategy.plugin
  if (plugin.kind === 'sampling') {
    sampling = createStrategy(plugin, {
      space,
      options: config.strategy.options,
      seed: config.seed,
      log,
    })
  } else {
    oneShot = createStrategy(plugin, {
      space,
      options: config.strategy.options,
      seed: config.seed,
      log,
    })
    sampling = listStrategy([])
  }

  const checkpoint = store.checkpoint()
  let nextId = checkpoint?.nextTrialId ?? 0
  const signal = opts.signal

  try {
    if (oneShot) {
      const found = await runOneShot(oneShot, store, config, emit, signal)
      if (found === null) {
        return finish(
          'interrupted',
          'interrupted',
          'Interrupted during the one-shot search; its last checkpoint is stored.',
        )
      }
      sampling = listStrategy(found)
    }
    if (checkpoint) sampling.restore(checkpoint.state)
    await executor.start()

    const rerun = store.runningTrials()
    emit({
      type: 'start',
      dir,
      resumed,
      space: space.name,
      strategy: config.strategy.name,
      evaluator: config.evaluator.name,
      executor: executor.kind,
      workers: executor.slots,
      budget: config.budget,
      done,
      failed,
      rerun: rerun.length,
      elapsedMs: elapsed(),
    })
    const outcome = await schedule({
      dir,
      store,
      space,
      sampling,
      executor,
      config,
      rerun,
      nextId,
      elapsed,
      account,
      counts: () => ({ done, failed, best }),
      emit,
      ...(signal ? { signal } : {}),
    })
    nextId = outcome.nextId
    return finish(
      outcome.reason === 'interrupted'
        ? 'interrupted'
        : outcome.reason === 'max-failures'
          ? 'failed'
          : 'completed',
      outcome.reason,
      outcome.message,
    )
  } finally {
    await executor.close()
    await sampling.dispose?.()
    await oneShot?.dispose?.()
  }

  function finish(
    status: RunExperimentResult['status'],
    reason: EndReason,
    message: string,
  ): RunExperimentResult {
    const elapsedMs = elapsed()
    store.transaction(() => {
      store.setMeta('status', { status, reason, message })
      store.setMeta('elapsedMs', elapsedMs)
      store.event('end', { status, reason, message })
    })
    const trials = store.trials()
    let bestTrial: StoredTrial | null = null
    for (const t of trials)
      if (
        t.status === 'ok' &&
        t.objective !== null &&
        (bestTrial === null || t.objective > (bestTrial.objective as number))
      )
        bestTrial = t
    const canResume = status !== 'completed' || reason === 'budget' || reason === 'time'
    emit({
      type: 'end',
      dir,
      status,
      reason,
      message,
      done,
      failed,
      best,
      elapsedMs,
      resumeCommand: canResume ? resumeCommand : null,
    })
    return {
      dir,
      status,
      reason,
      message,
      resumed,
      trials,
      best: bestTrial,
      resumeCommand: canResume ? resumeCommand : null,
    }
  }
}

/** A strategy that proposes a fixed list (the architectures a one-shot search returned). */
function listStrategy(items: Proposal[]): SamplingStrategy {
  let index = 0
  return {
    ask(n) {
      const out = items.slice(index, index + n)
      index += out.length
      return out
    },
    tell() {},
    state: () => ({ version: 1, index }),
    restore(state) {
      const s = state as { index?: unknown } | null
      if (!s || typeof s.index !== 'number')
        throw new NaskitError(
          'E_BAD_STATE',
          'The checkpoint of the one-shot result list is malformed.',
        )
      index = s.index
    },
    status: (): StrategyStatus =>
      index >= items.length
        ? {
            done: true,
            reason: 'finished',
            message: `Evaluated all ${items.length} architectures the one-shot search returned.`,
          }
        : { done: false },
  }
}

async function runOneShot(
  strategy: OneShotStrategy,
  store: Store,
  config: StoredConfig,
  emit: (e: RunEvent) => void,
  signal: AbortSignal | undefined,
): Promise<Proposal[] | null> {
  const saved = store.getMeta<{ architectures: Proposal[] }>('oneShotResult')
  if (saved) return saved.architectures
  const resume = store.getMeta<JsonValue>('oneShotState')
  const controller = new AbortController()
  const onAbort = () => controller.abort()
  signal?.addEventListener('abort', onAbort, { once: true })
  if (signal?.aborted) controller.abort()
  try {
    const result = await strategy.run({
      budget: {
        ...(config.budget.timeMs !== null ? { timeMs: config.budget.timeMs } : {}),
        ...(config.budget.trials !== null ? { trials: config.budget.trials } : {}),
      },
      signal: controller.signal,
      progress: (p) =>
        emit({
          type: 'one-shot',
          fraction: p.fraction,
          ...(p.message ? { message: p.message } : {}),
          ...(p.metrics ? { metrics: p.metrics } : {}),
        }),
      checkpoint: async (state, blobs) => {
        store.transaction(() => {
          store.setMeta('oneShotState', state)
          if (blobs) store.setBlobs(blobs)
          store.event('one-shot-checkpoint')
        })
      },
      ...(resume !== undefined ? { resume: { state: resume, blobs: store.blobs() } } : {}),
      services: {
        config,
        space: SearchSpace.fromJSON(config.space),
        evaluator: config.evaluator,
        seed: config.seed,
      },
    })
    if (controller.signal.aborted) return null
    const architectures = result.architectures.map((a) => ({
      arch: a.arch,
      ...(a.meta !== undefined ? { meta: a.meta } : {}),
      ...(a.fidelity ? { fidelity: a.fidelity } : {}),
    }))
    store.transaction(() => {
      store.setMeta('oneShotResult', { architectures, details: result.details ?? null })
      store.event('one-shot-done', { architectures: architectures.length })
    })
    return architectures
  } catch (error) {
    if (controller.signal.aborted) return null
    throw error
  } finally {
    signal?.removeEventListener('abort', onAbort)
  }
}

interface ScheduleArgs {
  dir: string
  store: Store
  space: SearchSpace
  sampling: SamplingStrategy
  executor: Executor
  config: StoredConfig
  rerun: ReturnType<Store['runningTrials']>
  nextId: number
  elapsed(): number
  account(t: TrialResult): void
  counts(): { done: number; failed: number; best: { id: number; objective: number } | null }
  emit(e: RunEvent): void
  signal?: AbortSignal
}

interface Pending {
  id: number
  arch: TrialResult['arch']
  key: string
  meta?: JsonValue
  fidelity?: TrialResult['fidelity']
}

/** The ask/evaluate/tell loop with `workers` evaluations in flight. */
async function schedule(
  a: ScheduleArgs,
): Promise<{ reason: EndReason; message: string; nextId: number }> {
  const { store, space, sampling, executor, config, emit } = a
  const budget = config.budget
  let nextId = a.nextId
  const running = new Map<number, { pending: Pending; abort(): void }>()
  const completions: Array<TrialResult & { elapsedMs: number }> = []
  let wake: (() => void) | null = null
  const notify = () => {
    const w = wake
    wake = null
    w?.()
  }
  let stop: { reason: EndReason; message: string } | null = null
  let graceDeadline: number | null = null

  const onAbort = () => notify()
  a.signal?.addEventListener('abort', onAbort)

  const dispatch = (p: Pending) => {
    const run = executor.run(
      {
        trialId: p.id,
        arch: p.arch,
        rngState: trialRngState(config.seed, p.id),
        ...(p.fidelity ? { fidelity: p.fidelity } : {}),
      },
      (progress) =>
        emit({
          type: 'progress',
          trialId: p.id,
          fraction: progress.fraction,
          ...(progress.message ? { message: progress.message } : {}),
        }),
    )
    running.set(p.id, { pending: p, abort: run.abort })
    run.done.then((report) => {
      if (!running.has(p.id)) return
      running.delete(p.id)
      const result = toTrialResult({
        id: p.id,
        arch: p.arch,
        key: p.key,
        outcome:
          'metrics' in report.outcome
            ? { metrics: report.outcome.metrics }
            : { error: report.outcome.error },
        timings: {
          startedAt: report.startedAt,
          finishedAt: report.finishedAt,
          durationMs: report.finishedAt - report.startedAt,
        },
        worker: report.worker,
        ...(p.meta !== undefined ? { meta: p.meta } : {}),
        ...(p.fidelity ? { fidelity: p.fidelity } : {}),
      })
      completions.push({ ...result, elapsedMs: a.elapsed() })
      notify()
    })
  }

  if (a.rerun.length > 0) {
    // count the new attempt of trials that were running when the experiment stopped
    store.commit({ started: a.rerun.map((r) => ({ ...r, startedAt: Date.now() })) })
  }
  for (const r of a.rerun)
    dispatch({
      id: r.id,
      arch: r.arch,
      key: r.key,
      ...(r.meta !== undefined ? { meta: r.meta } : {}),
      ...(r.fidelity ? { fidelity: r.fidelity } : {}),
    })

  const setStop = (reason: EndReason, message: string) => {
    if (stop) return
    stop = { reason, message }
    if (reason === 'interrupted') graceDeadline = Date.now() + config.graceMs
    emit({
      type: 'stopping',
      reason,
      message,
      running: running.size,
      graceMs: reason === 'interrupted' ? config.graceMs : null,
    })
  }

  const checkStop = () => {
    const { done, failed, best } = a.counts()
    if (a.signal?.aborted) setStop('interrupted', 'Interrupted.')
    if (config.maxFailures !== null && failed >= config.maxFailures) {
      setStop(
        'max-failures',
        `Stopped after ${failed} failed trials (--max-failures ${config.maxFailures}). See their errors with \`naskit export ${a.dir} --failed --format csv\`, fix the cause, then resume with a larger --max-failures.`,
      )
    }
    if (budget.target !== null && best !== null && best.objective >= budget.target) {
      setStop(
        'target',
        `Reached the target objective ${budget.target} (trial ${best.id}: ${best.objective}).`,
      )
    }
    if (budget.trials !== null && done >= budget.trials)
      setStop('budget', `Finished the budget of ${budget.trials} trials.`)
    if (budget.timeMs !== null && a.elapsed() >= budget.timeMs)
      setStop('time', `Used the time budget of ${Math.round(budget.timeMs / 1000)} s.`)
  }

  try {
    for (;;) {
      const finished = completions.splice(0)
      if (finished.length > 0) {
        await sampling.tell(finished)
        for (const t of finished) a.account(t)
      }
      checkStop()
      const started: Array<Pending & { startedAt: number }> = []
      const invalid: Array<TrialResult & { elapsedMs: number }> = []
      let asked = false
      let idle = false
      if (!stop) {
        const status = sampling.status?.() ?? { done: false }
        if (status.done) setStop('strategy', status.message)
        else {
          const { done } = a.counts()
          const free = executor.slots - running.size
          const left = budget.trials === null ? free : budget.trials - done - running.size
          const n = Math.min(free, left)
          if (n > 0) {
            asked = true
            const proposals = await sampling.ask(n)
            for (const p of proposals.slice(0, n)) {
              const id = nextId++
              let arch: TrialResult['arch']
              try {
                arch = space.validate(p.arch)
              } catch (error) {
                const now = Date.now()
                invalid.push({
                  ...toTrialResult({
                    id,
                    arch: p.arch,
                    key: '',
                    outcome: { error },
                    timings: { startedAt: now, finishedAt: now, durationMs: 0 },
                  }),
                  key: `invalid:${id}`,
                  elapsedMs: a.elapsed(),
                })
                continue
              }
              started.push({
                id,
                arch,
                key: space.key(arch),
                startedAt: Date.now(),
                ...(p.meta !== undefined ? { meta: p.meta } : {}),
                ...(p.fidelity ? { fidelity: p.fidelity } : {}),
              })
            }
            if (invalid.length > 0) {
              await sampling.tell(invalid)
              for (const t of invalid) a.account(t)
            }
            if (proposals.length === 0 && running.size === 0) idle = true
          }
        }
      }
      if (finished.length > 0 || started.length > 0 || invalid.length > 0 || asked) {
        a.store.commit({
          finished: [...finished, ...invalid],
          started,
          checkpoint: { state: sampling.state(), nextTrialId: nextId },
        })
      }
      for (const t of [...finished, ...invalid]) {
        emit({
          type: 'trial',
          trial: t,
          ...a.counts(),
          running: running.size + started.length,
          elapsedMs: a.elapsed(),
          budget,
        })
      }
      for (const p of started) dispatch(p)

      if (running.size === 0 && completions.length === 0) {
        if (stop) break
        if (idle) {
          const status = sampling.status?.() ?? { done: false }
          setStop(
            status.done ? 'strategy' : 'idle',
            status.done
              ? status.message
              : 'The strategy proposed nothing more; the search ends here.',
          )
          break
        }
        if (invalid.length > 0) continue
        setStop('idle', 'The search has nothing left to run.')
        break
      }
      if (completions.length > 0) continue
      // wait for a completion, an interrupt, the time budget or the end of the grace period
      let timeout: number | null = null
      if (graceDeadline !== null) timeout = graceDeadline - Date.now()
      else if (!stop && budget.timeMs !== null)
        timeout = Math.max(0, budget.timeMs - a.elapsed()) + 1
      if (graceDeadline !== null && timeout !== null && timeout <= 0) {
        // grace is over: abandon the running trials; they stay `running` and are rerun on resume
        for (const r of running.values()) r.abort()
        running.clear()
        break
      }
      if (stop === null && a.signal?.aborted) continue
      let timer: ReturnType<typeof setTimeout> | null = null
      await new Promise<void>((resolve) => {
        wake = resolve
        if (timeout !== null) timer = setTimeout(notify, timeout)
      })
      if (timer !== null) clearTimeout(timer)
    }
  } finally {
    a.signal?.removeEventListener('abort', onAbort)
  }
  const final = stop as { reason: EndReason; message: string } | null
  return { reason: final?.reason ?? 'idle', message: final?.message ?? 'The search ended.', nextId }
}
