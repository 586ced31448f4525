import { existsSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'
import type { Evaluator, EvaluatorPlugin, Logger, Progress, SearchSpace } from '@naskit/core'
import { NaskitError } from '@naskit/core'
import {
  createEvaluator,
  type EvalReport,
  type EvalTask,
  evaluatorSeed,
  runEvaluation,
} from './evaluate'
import { findPackage, RUNNER_DIR, RUNNING_FROM_SOURCE } from './modules'
import type { ModuleRef } from './plugins'
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

/** Evaluates in the runner's own thread (cheap evaluators such as tables). */
export class InlineExecutor implements Executor {
  readonly kind = 'inline'
  private evaluator: Evaluator | null = null

  constructor(
    private readonly args: {
      plugin: EvaluatorPlugin
      options: unknown
      space: SearchSpace
      seed: number
      log: Logger
      slots: number
    },
  ) {}

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
    const startedAt = Date.now()
    const done = runEvaluation(
      evaluator,
      this.args.space,
      task,
      controller.signal,
      onProgress ?? (() => {}),
    ).then((outcome) => ({
      outcome,
      worker: 'main',
      startedAt,
      finishedAt: Date.now(),
    }))
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

function workerScript(): { script: string | URL; eval: boolean; execArgv: string[] } {
  if (!RUNNING_FROM_SOURCE) {
    const url = new URL('./worker-entry.js', import.meta.url)
    if (existsSync(fileURLToPath(url))) return { script: url, eval: false, execArgv: [] }
  }
  // From sources (tests, tsx): load the TypeScript entry through tsx's loader.
  const tsx = findPackage('tsx/esm/api', [RUNNER_DIR, process.cwd()])
  if (!tsx) {
    throw new NaskitError(
      'E_WORKER_INIT',
      'Running @naskit/runner from its sources needs tsx to start worker threads; build the package (dist/) or install tsx.',
    )
  }
  const entry = new URL('./worker-entry.ts', import.meta.url).href
  const code = `import(${JSON.stringify(pathToFileURL(tsx.entry).href)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}) })`
  return { script: code, eval: true, execArgv: ['--conditions=@naskit/source'] }
}

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

  constructor(
    private readonly args: {
      ref: ModuleRef
      options: unknown
      space: SearchSpace
      seed: number
      log: Logger
      slots: number
    },
  ) {}

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
    const { script, eval: isEval, execArgv } = workerScript()
    const init: WorkerInit = {
      evaluator: { file: this.args.ref.file, pick: this.args.ref.pick },
      options: this.args.options,
      space: this.args.space.toJSON(),
      seed: evaluatorSeed(this.args.seed, index),
      index,
    }
    const worker = new Worker(script, {
      eval: isEval,
      execArgv,
      workerData: init,
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
