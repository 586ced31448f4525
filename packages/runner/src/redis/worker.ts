import { hostname } from 'node:os'
import type { Logger } from '@naskit/core'
import { NaskitError, SearchSpace } from '@naskit/core'
import type { Job, Worker } from 'bullmq'
import { canonicalJson } from '../canonical'
import { type Executor, localExecutor } from '../executor'
import { type LoadedEvaluator, loadEvaluator, pluginVersion } from '../plugins'
import {
  type ConnectionWatch,
  connectionOptions,
  describeRedisError,
  parseRedisUrl,
} from './connection'
import {
  DEFAULT_QUEUE,
  KEY_PREFIX,
  type TrialJobData,
  type TrialJobProgress,
  type TrialJobResult,
} from './protocol'

/** Options of {@link runWorker}. */
export interface WorkerOptions {
  /** `redis://host:port` or `rediss://…`. */
  url: string
  /** @default 'trials' */
  queue?: string
  /** Trials this process runs at once (worker threads for expensive evaluators). @default 1 */
  concurrency?: number
  /** Where evaluator names and paths resolve from. @default process.cwd() */
  cwd?: string
  /**
   * How long a job stays locked without a heartbeat before another worker may take it over
   * (a crashed worker's trial is requeued after about this long). @default 30000
   */
  lockMs?: number
  /** This worker's name in trial records. @default `${hostname}:${pid}` */
  name?: string
  /** Aborting stops taking jobs, lets running trials finish, and returns. */
  signal?: AbortSignal
  log?: Logger
  env?: NodeJS.ProcessEnv
  /** Called after each trial this worker finished (tests, progress). */
  onTrial?(info: { trialId: number; experimentId: string; ok: boolean; ms: number }): void
}

/** Why {@link runWorker} returned. */
export interface WorkerResult {
  reason: 'stopped' | 'refused'
  message: string
  trials: number
}

interface Context {
  key: string
  loaded: LoadedEvaluator
  executor: Executor
}

const silent: Logger = { info() {}, warn() {} }

/**
 * Takes trial jobs from a Redis queue and evaluates them: the evaluator named in each job is
 * loaded here (by built-in name, package name or path) and must have the coordinator's
 * version; a worker that cannot serve a job puts it back for other workers and stops.
 * Expensive evaluators run on worker threads so that the job locks keep being renewed.
 */
export async function runWorker(opts: WorkerOptions): Promise<WorkerResult> {
  const { Worker: BullWorker, DelayedError } = await import('bullmq')
  const log = opts.log ?? silent
  const cwd = opts.cwd ?? process.cwd()
  const concurrency = opts.concurrency ?? 1
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new NaskitError(
      'E_BAD_CONFIG',
      `--concurrency must be a positive integer, got ${concurrency}.`,
    )
  const lockMs = opts.lockMs ?? 30_000
  if (!Number.isFinite(lockMs) || lockMs < 500)
    throw new NaskitError('E_BAD_CONFIG', `--lock-ms must be at least 500, got ${lockMs}.`)
  const name = opts.name ?? `${hostname()}:${process.pid}`
  const queueName = opts.queue ?? DEFAULT_QUEUE
  const target = parseRedisUrl(opts.url, opts.env)
  let down = false
  const watch: ConnectionWatch = {
    onDown: (message, retryInMs) => {
      if (!down)
        log.warn(`${message}; retrying with backoff (next in ${(retryInMs / 1000).toFixed(1)} s).`)
      down = true
    },
    onUp: () => {
      if (down) log.info(`Reconnected to Redis at ${target.display}.`)
      down = false
    },
  }

  const contexts = new Map<string, Context>()
  let trials = 0
  let refusal: string | null = null
  let finish: (() => void) | null = null
  const finished = new Promise<void>((resolve) => {
    finish = resolve
  })

  const contextFor = async (data: TrialJobData): Promise<Context> => {
    const key = canonicalJson({
      spec: data.evaluator.spec,
      options: data.evaluator.options,
      space: data.space,
      seed: data.seed,
    })
    const known = contexts.get(key)
    if (known) return known
    const loaded = await loadEvaluator(data.evaluator.spec, cwd)
    const mine = pluginVersion(loaded)
    if (data.evaluator.version !== null && mine !== data.evaluator.version) {
      throw new NaskitError(
        'E_VERSION_MISMATCH',
        `evaluator "${data.evaluator.name}"${data.evaluator.packageName ? ` (${data.evaluator.packageName})` : ''} is version ${mine ?? 'unknown'} here but ${data.evaluator.version} on the coordinator; install the same version on this worker.`,
      )
    }
    // one evaluator set at a time: a new experiment's jobs replace the previous one's
    for (const [k, c] of contexts) {
      contexts.delete(k)
      await c.executor.close()
    }
    const space = SearchSpace.fromJSON(data.space)
    const executor = localExecutor(loaded, loaded.plugin.cost === 'expensive', {
      options: data.evaluator.options,
      space,
      seed: data.seed,
      log,
      slots: concurrency,
    })
    await executor.start()
    const context = { key, loaded, executor }
    contexts.set(key, context)
    return context
  }

  let worker: Worker | null = null
  const stop = async (): Promise<void> => {
    if (!worker) return
    const w = worker
    worker = null
    await w.close()
    finish?.()
  }

  const processor = async (job: Job, token?: string): Promise<TrialJobResult> => {
    const data = job.data as TrialJobData
    if (data?.format !== 'naskit-trial' || data.version !== 1) {
      throw new NaskitError(
        'E_BAD_JOB',
        `Job ${job.id} is not a naskit trial of a format this worker knows (format ${String(data?.format)}, version ${String(data?.version)}).`,
      )
    }
    let context: Context
    try {
      context = await contextFor(data)
    } catch (error) {
      const code = (error as { code?: string }).code
      if (
        code === 'E_VERSION_MISMATCH' ||
        code === 'E_UNKNOWN_EVALUATOR' ||
        code === 'E_PLUGIN_NOT_FOUND' ||
        code === 'E_PLUGIN_LOAD'
      ) {
        // This worker cannot serve the experiment: hand the job back untouched and stop.
        refusal = `${code}: ${(error as Error).message}`
        log.warn(
          `Refusing trial ${data.task.trialId} of experiment ${data.experimentId}: ${refusal}`,
        )
        await job.updateProgress({ refused: refusal, worker: name } satisfies TrialJobProgress)
        await job.moveToDelayed(Date.now(), token)
        void stop()
        throw new DelayedError()
      }
      throw error
    }
    let lastProgress = 0
    const running = context.executor.run(data.task, (p) => {
      const now = Date.now()
      if (now - lastProgress < 500 && p.fraction < 1) return
      lastProgress = now
      void job
        .updateProgress({
          fraction: p.fraction,
          ...(p.message ? { message: p.message } : {}),
        } satisfies TrialJobProgress)
        .catch(() => {})
    })
    const report = await running.done
    trials++
    const ok = 'metrics' in report.outcome
    opts.onTrial?.({
      trialId: data.task.trialId,
      experimentId: data.experimentId,
      ok,
      ms: report.finishedAt - report.startedAt,
    })
    return {
      outcome: report.outcome,
      worker: report.worker === 'main' ? name : `${name}/${report.worker}`,
      startedAt: report.startedAt,
      finishedAt: report.finishedAt,
    }
  }

  const connection = connectionOptions(target, watch, opts.env)
  worker = new BullWorker(queueName, processor as never, {
    connection,
    prefix: KEY_PREFIX,
    concurrency,
    lockDuration: lockMs,
    stalledInterval: Math.max(250, Math.floor(lockMs / 2)),
    maxStalledCount: 2,
    autorun: false,
  })
  let lastWarning = ''
  worker.on('error', (error) => {
    const message = describeRedisError(error, target, down)
    if (message === null || message === lastWarning) return
    lastWarning = message
    log.warn(message)
  })
  worker.on('ready', () => watch.onUp())

  const onAbort = () => void stop()
  opts.signal?.addEventListener('abort', onAbort, { once: true })
  if (opts.signal?.aborted) void stop()
  try {
    const running = worker?.run()
    log.info(
      `Worker ${name} taking trials from ${target.display} (queue "${queueName}", ${concurrency} at a time).`,
    )
    await Promise.race([finished, running])
    await stop()
  } finally {
    opts.signal?.removeEventListener('abort', onAbort)
    for (const c of contexts.values()) await c.executor.close()
    contexts.clear()
  }
  return refusal !== null
    ? { reason: 'refused', message: refusal, trials }
    : { reason: 'stopped', message: `Stopped after ${trials} trials.`, trials }
}
