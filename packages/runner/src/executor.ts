import { availableParallelism } from 'node:os'
import type { Worker } from 'node:worker_threads'
import type {
  Evaluator,
  EvaluatorPlugin,
  Logger,
  Progress,
  SearchSpace,
  TrialError,
} from '@naskit/core'
import { NaskitError } from '@naskit/core'
import { startWorker } from '@naskit/core/node'
import {
  createEvaluator,
  type EvalReport,
  type EvalTask,
  evaluatorSeed,
  runEvaluation,
} from './evaluate'
import { type LoadedEvaluator, type ModuleRef, pluginVersion } from './plugins'
import { isRedisUrl } from './redis/connection'
import { RedisExecutor } from './redis/executor'
import { DEFAULT_QUEUE } from './redis/protocol'
import type { StoredConfig } from './types'
import type { FromWorker, ToWorker, WorkerInit } from './worker-entry'

/** A running evaluation: its outcome, and a way to abort it. */
export interface RunningEval {
  done: Promise<EvalReport>
  abort(): void
}

/** Runs evaluations: in-process, or on a pool of worker threads. */
export interface Executor {
  readonly kind: 'inline' | 'threads' | 'redis'
  /** Evaluations in flight (running, or waiting for a free thread). */
  readonly slots: number
  /** Most evaluations that run at once, when fewer than `slots` (a thread cap). */
  readonly maxThreads?: number
  start(): Promise<void>
  run(task: EvalTask, onProgress?: (p: Progress) => void): RunningEval
  close(): Promise<void>
}

/** What an in-process or thread executor creates its evaluators with. */
export interface LocalExecutorArgs {
  options: unknown
  space: SearchSpace
  seed: number
  log: Logger
  slots: number
  /** Most worker threads a thread executor runs. @default 4 × os.availableParallelism() */
  maxThreads?: number
  /**
   * Trials the search will run at once at most (fewer than `slots` when the budget is smaller):
   * a thread executor starts this many threads, and more only if trials come to need them.
   * @default slots
   */
  expectedTrials?: number
}

/** Worker threads per CPU core a thread executor runs at most (see `maxThreads`). */
export const THREADS_PER_CORE = 4

function limitText(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`
}

/** The failure of a trial that ran longer than its `trialTimeout`. */
export function timeoutError(task: EvalTask, where: 'thread' | 'inline'): TrialError {
  const limit = task.timeoutMs ?? 0
  const what =
    where === 'thread'
      ? 'its worker thread was stopped and replaced'
      : "it ran in the search's own thread, where its work cannot be interrupted, so it was only asked to stop (ctx.signal); evaluate in worker threads (--executor threads) to have such a trial stopped"
  return {
    code: 'E_TRIAL_TIMEOUT',
    message: `Trial ${task.trialId} ran longer than its time limit of ${limitText(limit)} (trialTimeout) and was failed; ${what}. Raise --trial-timeout if trials need longer.`,
  }
}

/** Evaluates in the runner's own thread (cheap evaluators such as tables). */
export class InlineExecutor implements Executor {
  readonly kind = 'inline'
  private evaluator: Evaluator | null = null
  /** Evaluations in flight, each with what settles it. */
  private readonly inFlight = new Set<{
    task: EvalTask
    startedAt: number
    settle(r: EvalReport): void
  }>()

  constructor(private readonly args: LocalExecutorArgs & { plugin: EvaluatorPlugin }) {}

  get slots(): number {
    return this.args.slots
  }

  /**
   * Node.js is about to exit because nothing is left to wait for: the evaluations still in
   * flight can never settle (a promise that nothing resolves). Fail them, which lets the search
   * go on (and end) instead of the process exiting silently with code 13.
   */
  private readonly onIdle = () => {
    const now = Date.now()
    for (const e of [...this.inFlight]) {
      e.settle({
        outcome: {
          error: {
            code: 'E_EVALUATION_UNSETTLED',
            message: `The evaluation of trial ${e.task.trialId} can never finish: the promise evaluate() returned is still pending, but nothing is left that could settle it (no timer, I/O or worker is active), so Node.js would exit here. Make evaluate() resolve or reject on every path.`,
          },
        },
        worker: 'main',
        startedAt: e.startedAt,
        finishedAt: now,
      })
    }
  }

  async start(): Promise<void> {
    this.evaluator = await createEvaluator(this.args.plugin, {
      ...this.args,
      seed: evaluatorSeed(this.args.seed, 0),
    })
    process.on('beforeExit', this.onIdle)
  }

  run(task: EvalTask, onProgress?: (p: Progress) => void): RunningEval {
    const evaluator = this.evaluator
    if (!evaluator) throw new Error('InlineExecutor.run() before start()')
    const controller = new AbortController()
    let resolve!: (r: EvalReport) => void
    const done = new Promise<EvalReport>((res) => {
      resolve = res
    })
    let timer: ReturnType<typeof setTimeout> | null = null
    const entry = {
      task,
      startedAt: Date.now(),
      settle: (r: EvalReport) => {
        if (!this.inFlight.delete(entry)) return
        if (timer !== null) clearTimeout(timer)
        resolve(r)
      },
    }
    this.inFlight.add(entry)
    const limit = task.timeoutMs
    const timedOut = (finishedAt: number): EvalReport => ({
      outcome: { error: timeoutError(task, 'inline') },
      worker: 'main',
      startedAt: entry.startedAt,
      finishedAt,
    })
    if (limit !== undefined) {
      timer = setTimeout(() => {
        controller.abort()
        entry.settle(timedOut(Date.now()))
      }, limit)
    }
    void runEvaluation(
      evaluator,
      this.args.space,
      task,
      controller.signal,
      onProgress ?? (() => {}),
    ).then((evaluation) => {
      // a synchronous evaluation blocks the timer: judge it by how long it ran
      if (limit !== undefined && evaluation.finishedAt - evaluation.startedAt > limit)
        entry.settle(timedOut(evaluation.finishedAt))
      else entry.settle({ ...evaluation, worker: 'main' })
    })
    return { done, abort: () => controller.abort() }
  }

  async close(): Promise<void> {
    process.off('beforeExit', this.onIdle)
    await this.evaluator?.dispose?.()
    this.evaluator = null
  }
}

interface Job {
  task: EvalTask
  resolve(r: EvalReport): void
  onProgress?: (p: Progress) => void
}

interface Slot {
  index: number
  worker: Worker
  ready: Promise<void>
  busy: (Job & { startedAt: number; timer: ReturnType<typeof setTimeout> | null }) | null
  lastError: string | null
  isReady: boolean
  /** Stopped by the pool (its trial timed out): its exit is expected. */
  retired: boolean
}

const WORKER_ENTRY = new URL('./worker-entry.js', import.meta.url)
const WORKER_SOURCE = new URL('./worker-entry.ts', import.meta.url)

/** Worker threads in a row that may fail to start before no more are started. */
const MAX_INIT_FAILURES = 3

/**
 * A pool of worker threads, each loading the evaluator from its module and creating it with
 * its own RNG stream. Threads start as trials need them, up to `slots`, and at most
 * `maxThreads` (with a warning when `slots` asks for more: those trials wait for a thread).
 * A worker that dies fails its trial (`E_WORKER_CRASHED`) and is replaced; one whose trial runs
 * past the task's `timeoutMs` is terminated (`E_TRIAL_TIMEOUT`) and replaced.
 */
export class ThreadExecutor implements Executor {
  readonly kind = 'threads'
  private readonly slotsList: Slot[] = []
  private readonly queue: Job[] = []
  private closing = false
  private started = false
  private initFailures = 0
  private lastInitError: string | null = null
  /** Most worker threads at once; trials beyond them wait for a free thread. */
  readonly maxThreads: number

  constructor(private readonly args: LocalExecutorArgs & { ref: ModuleRef }) {
    this.maxThreads = Math.max(
      1,
      Math.floor(args.maxThreads ?? THREADS_PER_CORE * availableParallelism()),
    )
  }

  /** Trials in flight (those beyond `maxThreads` wait for a free thread). */
  get slots(): number {
    return this.args.slots
  }

  /** Worker threads running now (started or starting). */
  get threads(): number {
    return this.slotsList.length
  }

  /**
   * Starts as many worker threads as trials will run at once (`expectedTrials`, at most
   * `slots`) and waits until their evaluators are ready; more start later if trials need them.
   */
  async start(): Promise<void> {
    if (this.args.slots > this.maxThreads) {
      this.args.log.warn(
        `${this.args.slots} workers asked for, but at most ${this.maxThreads} worker threads run (${THREADS_PER_CORE} per CPU core; this machine has ${availableParallelism()}): ${this.maxThreads} trials are evaluated at a time and the others wait for a free thread. Lower --workers to at most ${this.maxThreads}, or use a Redis executor to spread trials over machines.`,
      )
    }
    const initial = Math.max(
      1,
      Math.min(this.maxThreads, this.slots, this.args.expectedTrials ?? this.slots),
    )
    const slots = Array.from({ length: initial }, () => this.spawn())
    try {
      await Promise.all(slots.map((s) => s.ready))
    } catch (error) {
      await this.close()
      throw error
    }
    this.started = true
  }

  /** The smallest worker index not in use: each index has its own evaluator seed. */
  private freeIndex(): number {
    const used = new Set(this.slotsList.map((s) => s.index))
    let i = 0
    while (used.has(i)) i++
    return i
  }

  private spawn(): Slot {
    const index = this.freeIndex()
    const init: WorkerInit = {
      evaluator: { file: this.args.ref.file, pick: this.args.ref.pick },
      options: this.args.options,
      space: this.args.space.toJSON(),
      seed: evaluatorSeed(this.args.seed, index),
      index,
    }
    const worker = startWorker(WORKER_ENTRY, init, {
      sourceEntry: WORKER_SOURCE,
      stdout: false,
      stderr: false,
    })
    let readyResolve!: () => void
    let readyReject!: (e: Error) => void
    const ready = new Promise<void>((res, rej) => {
      readyResolve = res
      readyReject = rej
    })
    const slot: Slot = {
      index,
      worker,
      ready,
      busy: null,
      lastError: null,
      isReady: false,
      retired: false,
    }
    this.slotsList.push(slot)
    ready.then(
      () => {
        this.initFailures = 0
      },
      (e: Error) => this.initFailed(slot, e),
    )
    worker.on('message', (m: FromWorker) => {
      if (m.type === 'ready') {
        slot.isReady = true
        readyResolve()
        this.pump()
      } else if (m.type === 'init-error') {
        readyReject(
          new NaskitError(
            m.error.code,
            `The evaluator could not start in a worker thread: ${m.error.message}`,
          ),
        )
      } else if (m.type === 'done') {
        const busy = slot.busy
        if (busy && busy.task.trialId === m.trialId) {
          slot.busy = null
          if (busy.timer !== null) clearTimeout(busy.timer)
          busy.resolve({
            outcome: m.outcome,
            worker: `w${index}`,
            startedAt: m.startedAt,
            finishedAt: m.finishedAt,
          })
        }
        this.pump()
      } else if (m.type === 'progress') {
        slot.busy?.onProgress?.(m.progress)
      } else if (m.type === 'log') {
        this.args.log[m.level](m.message)
      }
    })
    worker.on('error', (error) => {
      slot.lastError = error.message
    })
    worker.on('exit', (code) => {
      if (!slot.isReady)
        readyReject(
          new NaskitError(
            'E_WORKER_INIT',
            `A worker thread exited (code ${code}) before the evaluator was ready${slot.lastError ? `: ${slot.lastError}` : ''}.`,
          ),
        )
      if (slot.retired) return
      this.remove(slot)
      const busy = slot.busy
      slot.busy = null
      if (busy) {
        if (busy.timer !== null) clearTimeout(busy.timer)
        busy.resolve({
          outcome: {
            error: {
              code: 'E_WORKER_CRASHED',
              message: `The worker thread running this trial exited (code ${code})${slot.lastError ? `: ${slot.lastError}` : ''}.`,
            },
          },
          worker: `w${index}`,
          startedAt: busy.startedAt,
          finishedAt: Date.now(),
        })
      }
      // a replacement starts when a trial needs it
      if (slot.isReady) this.pump()
    })
    return slot
  }

  private remove(slot: Slot): void {
    const i = this.slotsList.indexOf(slot)
    if (i >= 0) this.slotsList.splice(i, 1)
  }

  /** A worker that could not start (after `start()`, which throws such a failure itself). */
  private initFailed(slot: Slot, error: Error): void {
    this.remove(slot)
    if (!this.started || this.closing) return
    this.initFailures++
    this.lastInitError = error.message
    this.args.log.warn(`A worker thread failed to start: ${error.message}`)
    this.pump()
  }

  /** Fails every queued task (when no worker is left to run them). */
  private failQueued(reason: string): void {
    const now = Date.now()
    for (const q of this.queue.splice(0)) {
      q.resolve({
        outcome: {
          error: {
            code: 'E_WORKER_CRASHED',
            message: `No worker thread is left to run this trial: ${reason}`,
          },
        },
        worker: 'none',
        startedAt: now,
        finishedAt: now,
      })
    }
  }

  private assign(slot: Slot, job: Job): void {
    const busy: NonNullable<Slot['busy']> = { ...job, startedAt: Date.now(), timer: null }
    slot.busy = busy
    const limit = job.task.timeoutMs
    if (limit !== undefined) busy.timer = setTimeout(() => this.timeOut(slot, busy), limit)
    slot.worker.postMessage({ type: 'eval', task: job.task } satisfies ToWorker)
  }

  /** The trial ran past its time limit: fail it, stop its thread (a new one starts as needed). */
  private timeOut(slot: Slot, busy: NonNullable<Slot['busy']>): void {
    if (slot.busy !== busy) return
    slot.busy = null
    slot.retired = true
    this.remove(slot)
    busy.resolve({
      outcome: { error: timeoutError(busy.task, 'thread') },
      worker: `w${slot.index}`,
      startedAt: busy.startedAt,
      finishedAt: Date.now(),
    })
    void slot.worker.terminate()
    this.pump()
  }

  private pump(): void {
    if (this.closing) return
    for (const slot of this.slotsList) {
      if (this.queue.length === 0) break
      if (slot.busy || !slot.isReady) continue
      this.assign(slot, this.queue.shift() as Job)
    }
    if (this.queue.length === 0) return
    // start threads for the trials still waiting, up to the cap
    const starting = this.slotsList.filter((s) => !s.isReady).length
    let wanted = this.queue.length - starting
    while (
      wanted > 0 &&
      this.slotsList.length < this.maxThreads &&
      this.initFailures < MAX_INIT_FAILURES
    ) {
      this.spawn()
      wanted--
    }
    if (this.slotsList.length === 0)
      this.failQueued(this.lastInitError ?? 'every worker thread failed')
  }

  run(task: EvalTask, onProgress?: (p: Progress) => void): RunningEval {
    let resolve!: (r: EvalReport) => void
    const done = new Promise<EvalReport>((res) => {
      resolve = res
    })
    this.queue.push({ task, resolve, ...(onProgress ? { onProgress } : {}) })
    this.pump()
    return {
      done,
      abort: () => {
        const queued = this.queue.findIndex((q) => q.task.trialId === task.trialId)
        if (queued >= 0) this.queue.splice(queued, 1)
        for (const s of this.slotsList) {
          if (s.busy?.task.trialId === task.trialId)
            s.worker.postMessage({ type: 'abort', trialId: task.trialId } satisfies ToWorker)
        }
      },
    }
  }

  /** Asks every worker to dispose of its evaluator and exit; terminates those that do not within `graceMs`. */
  async close(graceMs = 2000): Promise<void> {
    this.closing = true
    const slots = this.slotsList.splice(0)
    await Promise.all(
      slots.map(async (s) => {
        if (s.busy?.timer) clearTimeout(s.busy.timer)
        const gone = new Promise<void>((resolve) => s.worker.once('exit', () => resolve()))
        try {
          s.worker.postMessage({ type: 'close' } satisfies ToWorker)
        } catch {
          // already exited
        }
        let timer: ReturnType<typeof setTimeout> | undefined
        const late = new Promise<'late'>((resolve) => {
          timer = setTimeout(() => resolve('late'), s.isReady && !s.busy ? graceMs : 0)
        })
        if ((await Promise.race([gone, late])) === 'late') await s.worker.terminate()
        clearTimeout(timer)
      }),
    )
  }
}

/**
 * An executor in this process: a pool of worker threads when `threads` is asked for and the
 * evaluator can be loaded by module, else the runner's own thread.
 */
export function localExecutor(
  evaluator: LoadedEvaluator,
  threads: boolean,
  args: LocalExecutorArgs,
): Executor {
  return threads && evaluator.ref
    ? new ThreadExecutor({ ...args, ref: evaluator.ref })
    : new InlineExecutor({ ...args, plugin: evaluator.plugin })
}

/**
 * The executor of an experiment: a Redis queue for a `redis://` executor; otherwise worker
 * threads for `threads`, and for `auto` with an expensive evaluator, when the evaluator is
 * loadable by module (`warn` says so when it is not); in-process for the rest.
 */
export function createExecutor(args: {
  config: StoredConfig
  evaluator: LoadedEvaluator
  /** The Redis URL with its credentials, when the executor is Redis. */
  executorUrl: string | null
  experimentId: string
  space: SearchSpace
  log: Logger
  warn(message: string): void
  signal?: AbortSignal
}): Executor {
  const { config, evaluator, log } = args
  if (isRedisUrl(config.executor)) {
    return new RedisExecutor({
      url: args.executorUrl ?? config.executor,
      queue: config.queue ?? DEFAULT_QUEUE,
      experimentId: args.experimentId,
      evaluator: {
        spec: config.evaluator.spec as string,
        name: config.evaluator.name,
        options: config.evaluator.options,
        version: pluginVersion(evaluator),
        packageName: evaluator.ref?.packageName ?? null,
      },
      space: config.space,
      seed: config.seed,
      slots: config.workers,
      log,
      ...(args.signal ? { signal: args.signal } : {}),
    })
  }
  const threads =
    config.executor === 'threads' ||
    (config.executor === 'auto' && evaluator.plugin.cost === 'expensive')
  if (threads && !evaluator.ref) {
    args.warn(
      `Evaluator "${config.evaluator.name}" was given as an object, so it runs in-process; give it as a module path to use worker threads.`,
    )
  }
  return localExecutor(evaluator, threads, {
    options: config.evaluator.options,
    space: args.space,
    seed: config.seed,
    log,
    slots: config.workers,
    ...(config.budget.trials !== null
      ? { expectedTrials: Math.min(config.workers, config.budget.trials) }
      : {}),
  })
}
