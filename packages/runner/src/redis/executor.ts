import type { JsonObject, Logger, Progress, SpaceSpec } from '@naskit/core'
import { NaskitError } from '@naskit/core'
import type { Queue, QueueEvents } from 'bullmq'
import type { EvalReport, EvalTask } from '../evaluate'
import type { Executor, RunningEval } from '../executor'
import {
  type ConnectionWatch,
  connectionOptions,
  describeRedisError,
  parseRedisUrl,
  type RedisTarget,
} from './connection'
import {
  DEFAULT_QUEUE,
  KEY_PREFIX,
  parseFailure,
  type TrialJobData,
  type TrialJobProgress,
  type TrialJobResult,
  trialJobId,
} from './protocol'

/** Options of {@link RedisExecutor}. */
export interface RedisExecutorOptions {
  url: string
  queue: string
  experimentId: string
  evaluator: TrialJobData['evaluator']
  space: SpaceSpec
  seed: number
  /** Trials in flight (queued or running). */
  slots: number
  log: Logger
  /** Seconds between checks of every pending job's state (lost events, Redis restarts). */
  reconcileMs?: number
  /** Attempts of a job whose worker fails it (a crash counts through BullMQ's stalled check). */
  attempts?: number
  env?: NodeJS.ProcessEnv
  /** Aborting gives up waiting for an unreachable Redis at start. */
  signal?: AbortSignal
  /**
   * Milliseconds trials may wait in the queue with no worker taking any of them before a
   * warning says so (with the command that starts a worker); repeated as long as it lasts.
   * @default 30000
   */
  noWorkerWarnMs?: number
}

interface PendingJob {
  id: string
  task: EvalTask
  resolve(r: EvalReport): void
  onProgress?: (p: Progress) => void
  /** Submitted to Redis (or found there). */
  queued: boolean
  queuedAt: number
  /** A worker has taken the job (it is active). */
  taken: boolean
}

const isResult = (v: unknown): v is TrialJobResult =>
  v !== null && typeof v === 'object' && 'outcome' in v && 'worker' in v

/**
 * Runs evaluations as BullMQ jobs on a Redis queue, taken by `naskit worker` processes on any
 * number of machines. Job ids are derived from the experiment and trial ids, so a trial is
 * queued at most once; a coordinator that restarts finds its running trials' jobs (finished or
 * not) in Redis. Events deliver results; a periodic check catches lost events and jobs that
 * vanished with a restarted Redis, which are queued again.
 */
export class RedisExecutor implements Executor {
  readonly kind = 'redis'
  private queue: Queue | null = null
  private events: QueueEvents | null = null
  private readonly pending = new Map<string, PendingJob>()
  private timer: ReturnType<typeof setInterval> | null = null
  private readonly target: RedisTarget
  private down = false
  private closed = false
  private reconciling = false
  private watcher: ConnectionWatch | null = null
  /** When a worker last took, reported on or finished a trial of this search. */
  private lastActivity = Date.now()
  private lastNoWorkerWarning = 0

  constructor(private readonly args: RedisExecutorOptions) {
    this.target = parseRedisUrl(args.url, args.env)
  }

  get slots(): number {
    return this.args.slots
  }

  /** The queue's URL without credentials. */
  get display(): string {
    return this.target.display
  }

  private watch(): ConnectionWatch {
    return {
      onDown: (message, retryInMs) => {
        if (this.closed) return
        if (!this.down)
          this.args.log.warn(
            `${message}; retrying with backoff (next in ${(retryInMs / 1000).toFixed(1)} s). Trials in flight are kept.`,
          )
        this.down = true
      },
      onUp: () => {
        if (this.down) this.args.log.info(`Reconnected to Redis at ${this.target.display}.`)
        this.down = false
      },
    }
  }

  async start(): Promise<void> {
    const { Queue, QueueEvents } = await import('bullmq')
    const watch = this.watch()
    const connection = connectionOptions(this.target, watch, this.args.env)
    this.queue = new Queue(this.args.queue, { connection, prefix: KEY_PREFIX })
    this.queue.on('error', (e) => this.connectionError(e))
    this.events = new QueueEvents(this.args.queue, { connection, prefix: KEY_PREFIX })
    this.events.on('error', (e) => this.connectionError(e))
    this.events.on('completed', ({ jobId, returnvalue }) => {
      void this.fromRedis(jobId, returnvalue)
    })
    this.events.on('failed', ({ jobId }) => {
      void this.checkJob(jobId)
    })
    this.events.on('progress', ({ jobId, data }) => this.progress(jobId, data))
    this.events.on('active', ({ jobId }) => this.taken(jobId, true))
    const ready = Promise.all([this.queue.waitUntilReady(), this.events.waitUntilReady()])
    const signal = this.args.signal
    if (signal) {
      let onAbort = () => {}
      const aborted = new Promise<'aborted'>((resolve) => {
        onAbort = () => resolve('aborted')
        if (signal.aborted) onAbort()
        else signal.addEventListener('abort', onAbort, { once: true })
      })
      const first = await Promise.race([ready, aborted])
      signal.removeEventListener('abort', onAbort)
      if (first === 'aborted') {
        this.down = true
        await this.close()
        throw new NaskitError(
          'E_REDIS_UNAVAILABLE',
          `Interrupted while waiting for Redis at ${this.target.display}; nothing was queued.`,
        )
      }
    } else await ready
    this.watcher = watch
    watch.onUp()
    this.lastActivity = Date.now()
    this.timer = setInterval(() => void this.reconcile(), this.args.reconcileMs ?? 2000)
    this.timer.unref?.()
  }

  private lastWarning = ''

  private warnOnce(message: string): void {
    if (message === this.lastWarning) return
    this.lastWarning = message
    this.args.log.warn(message)
  }

  private connectionError(error: Error): void {
    const message = describeRedisError(error, this.target, this.down)
    if (message !== null) this.warnOnce(message)
  }

  run(task: EvalTask, onProgress?: (p: Progress) => void): RunningEval {
    if (!this.queue) throw new Error('RedisExecutor.run() before start()')
    const id = trialJobId(this.args.experimentId, task.trialId)
    let resolve!: (r: EvalReport) => void
    const done = new Promise<EvalReport>((res) => {
      resolve = res
    })
    const entry: PendingJob = {
      id,
      task,
      resolve,
      queued: false,
      queuedAt: Date.now(),
      taken: false,
      ...(onProgress ? { onProgress } : {}),
    }
    this.pending.set(id, entry)
    void this.submit(entry)
    return {
      done,
      abort: () => {
        // Only waiting jobs are withdrawn; a running job finishes on its worker and its
        // result is picked up if the experiment resumes.
        this.pending.delete(id)
        void this.queue
          ?.getJob(id)
          .then(async (job) => {
            if (job && (await job.getState()) === 'waiting') await job.remove()
          })
          .catch(() => {})
      },
    }
  }

  private jobData(task: EvalTask): TrialJobData {
    return {
      format: 'naskit-trial',
      version: 1,
      experimentId: this.args.experimentId,
      task,
      evaluator: this.args.evaluator,
      space: this.args.space,
      seed: this.args.seed,
    }
  }

  /** Queues the trial's job, or attaches to the job already in Redis (after a restart). */
  private async submit(entry: PendingJob): Promise<void> {
    const queue = this.queue
    if (!queue) return
    try {
      const existing = await queue.getJob(entry.id)
      if (existing) {
        const state = await existing.getState()
        if (state === 'completed') {
          entry.queued = true
          this.deliver(entry.id, existing.returnvalue)
          return
        }
        if (state === 'failed') await existing.remove()
        else {
          entry.queued = true
          return
        }
      }
      await queue.add('trial', this.jobData(entry.task), {
        jobId: entry.id,
        attempts: this.args.attempts ?? 3,
        backoff: { type: 'fixed', delay: 1000 },
        removeOnComplete: { age: 24 * 3600 },
        removeOnFail: { age: 7 * 24 * 3600 },
      })
      entry.queued = true
      entry.queuedAt = Date.now()
    } catch (error) {
      if (this.closed) return
      this.args.log.warn(
        `Could not queue trial ${entry.task.trialId} on ${this.target.display}: ${(error as Error).message}; retrying.`,
      )
    }
  }

  /** Marks whether a worker holds the job of a pending trial. */
  private taken(jobId: string, taken: boolean): void {
    const entry = this.pending.get(jobId)
    if (!entry) return
    entry.taken = taken
    if (taken) this.lastActivity = Date.now()
  }

  private async fromRedis(jobId: string, value: unknown): Promise<void> {
    if (!this.pending.has(jobId)) return
    this.lastActivity = Date.now()
    this.deliver(jobId, typeof value === 'string' ? safeParse(value) : value)
  }

  private deliver(jobId: string, value: unknown): void {
    const entry = this.pending.get(jobId)
    if (!entry) return
    if (!isResult(value)) {
      // a completed job without a result of ours: run it again
      this.pending.delete(jobId)
      const now = Date.now()
      entry.resolve({
        outcome: {
          error: {
            code: 'E_JOB_FAILED',
            message: `The job of trial ${entry.task.trialId} completed without a naskit result.`,
          },
        },
        worker: 'redis',
        startedAt: now,
        finishedAt: now,
      })
      return
    }
    this.pending.delete(jobId)
    entry.resolve({
      outcome: value.outcome,
      worker: value.worker,
      startedAt: value.startedAt,
      finishedAt: value.finishedAt,
    })
  }

  private fail(jobId: string, reason: string | undefined): void {
    const entry = this.pending.get(jobId)
    if (!entry) return
    this.pending.delete(jobId)
    const error = parseFailure(reason)
    if (error.code === 'E_JOB_FAILED' && /stalled/i.test(error.message)) {
      error.code = 'E_WORKER_CRASHED'
      error.message = `Workers running this trial stopped responding repeatedly (${error.message}).`
    }
    const now = Date.now()
    entry.resolve({
      outcome: { error },
      worker: 'redis',
      startedAt: entry.queuedAt,
      finishedAt: now,
    })
  }

  private async checkJob(jobId: string): Promise<void> {
    const entry = this.pending.get(jobId)
    const queue = this.queue
    if (!entry || !queue) return
    const job = await queue.getJob(jobId)
    if (!job) {
      if (!entry.queued) return
      this.args.log.warn(
        `The job of trial ${entry.task.trialId} is no longer in Redis (was the server restarted without persistence?); queuing it again.`,
      )
      entry.queued = false
      await this.submit(entry)
      return
    }
    const state = await job.getState()
    if (state === 'completed') this.deliver(jobId, job.returnvalue)
    else if (state === 'failed') this.fail(jobId, job.failedReason)
    else if (state === 'active') this.taken(jobId, true)
    else if (state === 'waiting' || state === 'delayed' || state === 'prioritized')
      entry.taken = false
  }

  private progress(jobId: string, data: unknown): void {
    const entry = this.pending.get(jobId)
    if (!entry || data === null || typeof data !== 'object') return
    const p = data as TrialJobProgress
    this.lastActivity = Date.now()
    if ('refused' in p) {
      this.args.log.warn(`Worker ${p.worker} refused trial ${entry.task.trialId}: ${p.refused}`)
      return
    }
    if (typeof p.fraction === 'number')
      entry.onProgress?.({ fraction: p.fraction, ...(p.message ? { message: p.message } : {}) })
  }

  /** Checks every pending job: delivers results whose events were missed, requeues lost jobs. */
  async reconcile(): Promise<void> {
    if (this.reconciling || this.closed) return
    this.reconciling = true
    try {
      if (this.down) {
        // resolves once the connection is back (commands wait for a reconnect)
        await this.queue?.getVersion()
        this.watcher?.onUp()
      }
      for (const entry of [...this.pending.values()]) {
        if (this.closed) return
        if (!entry.queued) await this.submit(entry)
        else await this.checkJob(entry.id)
      }
      await this.checkWorkers()
    } catch {
      // connection trouble: the next round tries again
    } finally {
      this.reconciling = false
    }
  }

  /**
   * Warns when trials of this search wait in the queue while no worker has taken any of them
   * for `noWorkerWarnMs` (no worker running, or all busy elsewhere), and again as long as it
   * lasts, with the command that starts a worker.
   */
  private async checkWorkers(): Promise<void> {
    const waitMs = this.args.noWorkerWarnMs ?? 30_000
    const entries = [...this.pending.values()]
    const waiting = entries.filter((e) => e.queued && !e.taken)
    if (waiting.length === 0 || entries.some((e) => e.taken)) return
    const now = Date.now()
    const since = Math.max(this.lastActivity, Math.min(...waiting.map((e) => e.queuedAt)))
    if (now - since < waitMs || now - this.lastNoWorkerWarning < waitMs) return
    this.lastNoWorkerWarning = now
    let workers: number | null = null
    try {
      workers = (await this.queue?.getWorkersCount()) ?? null
    } catch {
      // some managed Redis servers do not list clients
    }
    const queueFlag = this.args.queue === DEFAULT_QUEUE ? '' : ` --queue ${this.args.queue}`
    const password =
      this.target.password === undefined ? '' : ' (and the password in NASKIT_REDIS_PASSWORD)'
    const connected =
      workers === null
        ? ''
        : workers === 0
          ? '; no worker is connected to it'
          : `; ${workers} worker${workers === 1 ? ' is' : 's are'} connected to it, busy with other jobs or unable to take these`
    this.args.log.warn(
      `No worker has taken a trial of this search for ${Math.round((now - since) / 1000)} s (${waiting.length} waiting in queue "${this.args.queue}" on ${this.target.display}${connected}). Start a worker with: naskit worker --executor ${this.target.display}${queueFlag}${password}`,
    )
  }

  async close(): Promise<void> {
    this.closed = true
    if (this.timer) clearInterval(this.timer)
    this.timer = null
    const events = this.events
    const queue = this.queue
    this.events = null
    this.queue = null
    // with no server to say goodbye to, closing can wait forever: give up after a while
    const disconnect = async () => {
      await settleWithin(
        Promise.allSettled([events?.disconnect(), queue?.disconnect()]),
        500,
        async () => {},
      )
    }
    if (this.down) await disconnect()
    else await settleWithin(Promise.allSettled([events?.close(), queue?.close()]), 3000, disconnect)
  }
}

/** Waits for `work`, or after `ms` runs `fallback` instead of waiting longer. */
export async function settleWithin(
  work: Promise<unknown>,
  ms: number,
  fallback: () => Promise<void>,
): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), ms)
  })
  const first = await Promise.race([work.then(() => 'done' as const), late])
  clearTimeout(timer)
  if (first === 'late') await fallback()
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch {
    return null
  }
}

/** Fails early when an experiment's evaluator cannot travel to remote workers. */
export function assertDistributable(evaluator: {
  spec: string | null
  name: string
}): asserts evaluator is { spec: string; name: string } {
  if (evaluator.spec === null) {
    throw new NaskitError(
      'E_BAD_CONFIG',
      `Evaluator "${evaluator.name}" was given as an object; a Redis executor sends trials to other processes, which load the evaluator by name: give it as a package name or a module path.`,
    )
  }
}

export type { JsonObject }
