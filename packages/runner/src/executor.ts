import type { Worker } from 'node:worker_threads'
import type { Evaluator, EvaluatorPlugin, Logger, Progress, SearchSpace } from '@naskit/core'
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
  readonly slots: number
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
}

/** Evaluates in the runner's own thread (cheap evaluators such as tables). */
export class InlineExecutor implements Executor {
  readonly kind = 'inline'
  private evaluator: Evaluator | null = null

  constructor(private readonly args: LocalExecutorArgs & { plugin: EvaluatorPlugin }) {}

  get slots(): number {
    return this.args.slots
  }

  async start(): Promise<void> {
    this.evaluator = await createEvaluator(this.args.plugin, {
      ...this.args,
      seed: evaluatorSeed(this.args.seed, 0),
    })
  }

  run(task: EvalTask, onProgress?: (p: Progress) => void): RunningEval {
    const evaluator = this.evaluator
    if (!evaluator) throw new Error('InlineExecutor.run() before start()')
    const controller = new AbortController()
    const done = runEvaluation(
      evaluator,
      this.args.space,
      task,
      controller.signal,
      onProgress ?? (() => {}),
    ).then((evaluation) => ({ ...evaluation, worker: 'main' }))
    return { done, abort: () => controller.abort() }
  }

  async close(): Promise<void> {
    await this.evaluator?.dispose?.()
    this.evaluator = null
  }
}

interface Slot {
  index: number
  worker: Worker
  ready: Promise<void>
  busy: {
    task: EvalTask
    resolve(r: EvalReport): void
    onProgress?: (p: Progress) => void
    startedAt: number
  } | null
  lastError: string | null
  isReady: boolean
}

const WORKER_ENTRY = new URL('./worker-entry.js', import.meta.url)
const WORKER_SOURCE = new URL('./worker-entry.ts', import.meta.url)

/**
 * A pool of worker threads, each loading the evaluator from its module and creating it with
 * its own RNG stream. A worker that dies fails its trial (`E_WORKER_CRASHED`) and is replaced.
 */
export class ThreadExecutor implements Executor {
  readonly kind = 'threads'
  private readonly slotsList: Slot[] = []
  private readonly queue: Array<{
    task: EvalTask
    resolve(r: EvalReport): void
    onProgress?: (p: Progress) => void
  }> = []
  private closing = false

  constructor(private readonly args: LocalExecutorArgs & { ref: ModuleRef }) {}

  get slots(): number {
    return this.args.slots
  }

  async start(): Promise<void> {
    for (let i = 0; i < this.args.slots; i++) this.slotsList.push(this.spawn(i))
    try {
      await Promise.all(this.slotsList.map((s) => s.ready))
    } catch (error) {
      await this.close()
      throw error
    }
  }

  private spawn(index: number): Slot {
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
    ready.catch(() => {})
    const slot: Slot = { index, worker, ready, busy: null, lastError: null, isReady: false }
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
      const busy = slot.busy
      slot.busy = null
      if (busy) {
        const now = Date.now()
        busy.resolve({
          outcome: {
            error: {
              code: 'E_WORKER_CRASHED',
              message: `The worker thread running this trial exited (code ${code})${slot.lastError ? `: ${slot.lastError}` : ''}.`,
            },
          },
          worker: `w${index}`,
          startedAt: busy.startedAt,
          finishedAt: now,
        })
      }
      if (!this.closing && slot.isReady) {
        const replacement = this.spawn(index)
        this.slotsList[this.slotsList.indexOf(slot)] = replacement
        replacement.ready.catch((e: Error) => {
          this.args.log.warn(`A replacement worker failed to start: ${e.message}`)
          this.slotsList.splice(this.slotsList.indexOf(replacement), 1)
          if (this.slotsList.length === 0) this.failQueued(e.message)
        })
      }
    })
    return slot
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

  private pump(): void {
    if (this.slotsList.length === 0 && !this.closing) this.failQueued('every worker thread failed')
    for (const slot of this.slotsList) {
      if (this.queue.length === 0) return
      if (slot.busy || !slot.isReady) continue
      const next = this.queue.shift()
      if (!next) return
      slot.busy = { ...next, startedAt: Date.now() }
      const msg: ToWorker = { type: 'eval', task: next.task }
      slot.worker.postMessage(msg)
    }
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
    await Promise.all(
      this.slotsList.map(async (s) => {
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
    this.slotsList.length = 0
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
  })
}
