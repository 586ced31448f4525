import { randomUUID } from 'node:crypto'
import { existsSync, mkdirSync, statSync } from 'node:fs'
import { resolve as resolvePath } from 'node:path'
import {
  BestTracker,
  bestTrial,
  createStrategy,
  type Logger,
  NaskitError,
  type OneShotStrategy,
  type RankedTrial,
  type SamplingStrategy,
  type TrialResult,
  isNaskitError,
} from '@naskit/core'
import {
  checkConfigFields,
  type NaskitConfig,
  type PreparedConfig,
  parseDuration,
  prepareConfig,
} from './config'
import { canonicalJson } from './canonical'
import { createExecutor } from './executor'
import { acquireLock, type ExperimentLock } from './lock'
import { runnerVersion } from './modules'
import { listStrategy, runOneShot } from './one-shot'
import { pluginVersion } from './plugins'
import { schedule } from './schedule'
import { Store } from './store'
import type { RunEvent, RunExperimentOptions, RunExperimentResult, StoredConfig } from './types'

const silentLog: Logger = { info() {}, warn() {} }

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

function mismatchError(dir: string, diffs: string[], advice: boolean): NaskitError {
  const found = `The experiment in ${dir} was created with a different configuration:\n  - ${diffs.join('\n  - ')}`
  if (!advice) return new NaskitError('E_CONFIG_MISMATCH', found)
  return new NaskitError(
    'E_CONFIG_MISMATCH',
    `${found}\nResume it with its own configuration (\`naskit search --out ${dir}\`), choose another --out folder, or pass --new to start a new experiment next to it.`,
    { details: { diffs } },
  )
}

/** Longest time limit a timer can wait for (about 24.8 days). */
const MAX_TIMEOUT_MS = 2 ** 31 - 1

/**
 * The time limit of one trial in milliseconds: `trialTimeout` as given (milliseconds or a
 * duration such as `'10m'`), else the stored one, else none.
 */
export function trialTimeoutMs(
  input: Partial<NaskitConfig>,
  stored: StoredConfig | undefined,
): number | null {
  const given: unknown = input.trialTimeout
  if (given === undefined) return stored?.trialTimeoutMs ?? null
  if (typeof given !== 'number' && typeof given !== 'string') {
    throw new NaskitError(
      'E_BAD_CONFIG',
      `Invalid experiment configuration: trialTimeout: expected milliseconds or a duration such as '10m', got ${JSON.stringify(given) ?? String(given)}.`,
    )
  }
  const ms = parseDuration(given, 'trialTimeout')
  if (ms > MAX_TIMEOUT_MS) {
    throw new NaskitError(
      'E_BAD_CONFIG',
      `Invalid experiment configuration: trialTimeout: at most ${MAX_TIMEOUT_MS} ms (24 days), got ${JSON.stringify(given)}.`,
    )
  }
  return ms
}

/**
 * Reads the stored configuration of an experiment folder (no lock taken); undefined when there
 * is no experiment yet (no store, or one created and stopped before its first commit).
 */
export function readExperimentConfig(dir: string): StoredConfig | undefined {
  if (!Store.exists(dir)) return undefined
  let store: Store
  try {
    store = Store.open(dir, { readonly: true })
  } catch (error) {
    if (isNaskitError(error, 'E_NO_EXPERIMENT')) return undefined
    throw error
  }
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
  let lock: ExperimentLock | null = null
  let store: Store | null = null
  try {
    let storedForDir: StoredConfig | undefined
    if (dir !== null) {
      try {
        storedForDir = readExperimentConfig(dir)
      } catch (error) {
        if (!isNaskitError(error, 'E_BAD_STORE')) throw error
        // A store another runner is creating at this moment can look damaged from outside: the
        // lock decides who runs (E_LOCKED for this one), and only its holder judges the store,
        // opening it for writing (which rolls back what a killed creator left half-done).
        mkdirSync(dir, { recursive: true })
        lock = acquireLock(dir, (message) => opts.onEvent?.({ type: 'warning', message }))
        store = Store.open(dir, { create: true })
        storedForDir = store.getMeta<StoredConfig>('config')
      }
    }
    const prepared = await prepareConfig(input, storedForDir, baseDir)
    prepared.config.trialTimeoutMs = trialTimeoutMs(input, storedForDir)
    if (dir === null) dir = defaultOut(baseDir, prepared.space.name, prepared.strategy.plugin.name)

    const diffs = storedForDir ? describeDiff(storedForDir, prepared.config) : []
    if (diffs.length > 0) {
      // --new: the new experiment takes the stored configuration with the given changes
      if (opts.onMismatch === 'new') {
        dir = nextFreeDir(dir)
        store?.close()
        store = null
        lock?.release()
        lock = null
      } else throw mismatchError(dir, diffs, true)
    }

    mkdirSync(dir, { recursive: true })
    lock ??= acquireLock(dir, (message) => opts.onEvent?.({ type: 'warning', message }))
    store ??= Store.open(dir, { create: true })
    return await runLocked(opts, dir, store, prepared)
  } finally {
    if (store) {
      try {
        store.checkpointWal('TRUNCATE')
      } catch {
        // the trials are committed in the log either way
      }
      store.close()
    }
    lock?.release()
  }
}

/**
 * The logger of the strategy and the evaluators (on any executor): what they warn about reaches
 * the caller's logger and, once per distinct message (each worker thread has its own
 * evaluator), the event stream that the CLI prints.
 */
/**
 * The training epochs a finished trial spent, for `budget.epochs`: its `epochs` metric (what
 * the TensorFlow.js evaluators report), else its fidelity's epochs, else 0.
 */
export function trialEpochs(t: Pick<TrialResult, 'metrics' | 'fidelity'>): number {
  const m = t.metrics?.epochs
  if (typeof m === 'number' && Number.isFinite(m) && m >= 0) return m
  const f = t.fidelity?.epochs
  return typeof f === 'number' && Number.isFinite(f) && f >= 0 ? f : 0
}

function warningEvents(userLog: Logger, emit: (e: RunEvent) => void): Logger {
  const warned = new Set<string>()
  const noted = new Set<string>()
  return {
    info: (message) => {
      userLog.info(message)
      if (noted.has(message)) return
      noted.add(message)
      emit({ type: 'info', message })
    },
    warn: (message) => {
      userLog.warn(message)
      if (warned.has(message)) return
      warned.add(message)
      emit({ type: 'warning', message })
    },
  }
}

async function runLocked(
  opts: RunExperimentOptions,
  dir: string,
  store: Store,
  prepared: PreparedConfig,
): Promise<RunExperimentResult> {
  const emit = (e: RunEvent) => opts.onEvent?.(e)
  const log = warningEvents(opts.log ?? silentLog, emit)
  const { config, space } = prepared
  const existing = store.getMeta<StoredConfig>('config')
  const resumed = existing !== undefined
  if (existing) {
    // another runner may have created it since the check before taking the lock
    const diffs = describeDiff(existing, config)
    if (diffs.length > 0) throw mismatchError(dir, diffs, false)
  }
  const versions: Record<string, string | null> = {
    '@naskit/runner': runnerVersion() ?? null,
    node: process.version,
    [prepared.strategy.ref?.packageName ?? `strategy:${config.strategy.name}`]: pluginVersion(
      prepared.strategy,
    ),
    [prepared.evaluator.ref?.packageName ?? `evaluator:${config.evaluator.name}`]: pluginVersion(
      prepared.evaluator,
    ),
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
  let epochs = 0
  const best = new BestTracker<RankedTrial>()
  const account = (t: RankedTrial & Pick<TrialResult, 'metrics' | 'fidelity'>) => {
    done++
    epochs += trialEpochs(t)
    if (t.status === 'failed') failed++
    else best.offer(t)
  }
  for (const t of finishedBefore) account(t)

  let experimentId = store.getMeta<string>('experimentId')
  if (experimentId === undefined) {
    experimentId = randomUUID()
    store.setMeta('experimentId', experimentId)
  }
  const executor = createExecutor({
    config,
    evaluator: prepared.evaluator,
    executorUrl: prepared.executorUrl,
    experimentId,
    space,
    log,
    warn: (message) => emit({ type: 'warning', message }),
    ...(opts.signal ? { signal: opts.signal } : {}),
  })

  const plugin = prepared.strategy.plugin
  const context = { space, options: config.strategy.options, seed: config.seed, log }
  const oneShot: OneShotStrategy | null =
    plugin.kind === 'one-shot' ? createStrategy(plugin, context) : null
  let sampling: SamplingStrategy =
    plugin.kind === 'sampling' ? createStrategy(plugin, context) : listStrategy([])

  const checkpoint = store.checkpoint()
  const signal = opts.signal
  const running = new Set<number>()
  // Something ending the process mid-search (an in-process evaluator calling process.exit())
  // must not pass for a finished search: say so, and never exit with 0.
  const onExit = (code: number) => {
    if (signal?.aborted) return // an interrupted search, ended by its caller (a second Ctrl-C)
    const ids = [...running].sort((x, y) => x - y)
    const during =
      ids.length === 0
        ? ''
        : ` while trial${ids.length === 1 ? '' : 's'} ${ids.join(', ')} ${ids.length === 1 ? 'was' : 'were'} running`
    process.stderr.write(
      `\nerror: the process is exiting (code ${code})${during}, before the search in ${dir} finished. Did the evaluator call process.exit()? An evaluator running in worker threads (--executor threads) cannot end the search. The finished trials are stored; resume with: ${resumeCommand}\n`,
    )
    if (code === 0) process.exitCode = 1
  }
  process.on('exit', onExit)

  try {
    if (oneShot) {
      const found = await runOneShot(oneShot, store, config, emit, signal, {
        evaluator: prepared.evaluator,
        log,
      })
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
      ...(executor.maxThreads !== undefined && executor.maxThreads < executor.slots
        ? { threads: executor.maxThreads }
        : {}),
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
      // past every stored trial even when the checkpoint's next id lags behind them
      nextId: store.nextTrialId(),
      elapsed,
      account,
      counts: () => ({ done, failed, epochs, best: best.summary() }),
      emit,
      ...(signal ? { signal } : {}),
      running,
      ...(opts.tellOrder ? { tellOrder: opts.tellOrder } : {}),
    })
    return finish(
      outcome.reason === 'interrupted'
        ? 'interrupted'
        : outcome.reason === 'max-failures' || outcome.reason === 'unsettled'
          ? 'failed'
          : 'completed',
      outcome.reason,
      outcome.message,
    )
  } finally {
    process.off('exit', onExit)
    await executor.close()
    await sampling.dispose?.()
    await oneShot?.dispose?.()
  }

  function finish(
    status: RunExperimentResult['status'],
    reason: RunExperimentResult['reason'],
    message: string,
  ): RunExperimentResult {
    const elapsedMs = elapsed()
    store.transaction(() => {
      store.setMeta('status', { status, reason, message })
      store.setMeta('elapsedMs', elapsedMs)
      store.event('end', { status, reason, message })
    })
    const trials = store.trials()
    const canResume = status !== 'completed' || reason === 'budget' || reason === 'time'
    emit({
      type: 'end',
      dir,
      status,
      reason,
      message,
      done,
      failed,
      best: best.summary(),
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
      best: bestTrial(trials) ?? null,
      resumeCommand: canResume ? resumeCommand : null,
    }
  }
}
