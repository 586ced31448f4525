import { parentPort, workerData } from 'node:worker_threads'
import {
  type Evaluator,
  type Logger,
  SearchSpace,
  type SpaceSpec,
  type TrialError,
  toTrialError,
} from '@naskit/core'
import { importFile } from '@naskit/core/node'
import { createEvaluator, type EvalOutcome, type EvalTask, runEvaluation } from './evaluate'
import { pickEvaluator } from './plugins'

/** What a pool worker is started with. */
export interface WorkerInit {
  evaluator: { file: string; pick: string | null }
  options: unknown
  space: SpaceSpec
  /** This worker's own evaluator seed. */
  seed: number
  index: number
}

/** Messages from the pool to a worker. */
export type ToWorker =
  | { type: 'eval'; task: EvalTask }
  | { type: 'abort'; trialId: number }
  | { type: 'close' }

/** Messages from a worker to the pool. */
export type FromWorker =
  | { type: 'ready' }
  | { type: 'init-error'; error: TrialError }
  | {
      type: 'done'
      trialId: number
      outcome: EvalOutcome
      startedAt: number
      finishedAt: number
    }
  | { type: 'progress'; trialId: number; progress: { fraction: number; message?: string } }
  | { type: 'log'; level: 'info' | 'warn'; message: string }

async function main(): Promise<void> {
  const port = parentPort
  if (!port) throw new Error('@naskit/runner/worker must run in a worker thread')
  const init = workerData as WorkerInit
  const post = (m: FromWorker) => port.postMessage(m)
  const log: Logger = {
    info: (message) => post({ type: 'log', level: 'info', message }),
    warn: (message) => post({ type: 'log', level: 'warn', message }),
  }
  let evaluator: Evaluator
  let space: SearchSpace
  try {
    space = SearchSpace.fromJSON(init.space)
    const mod = await importFile(init.evaluator.file)
    const { plugin } = pickEvaluator(mod, init.evaluator.pick, init.evaluator.file)
    evaluator = await createEvaluator(plugin, {
      options: init.options,
      space,
      seed: init.seed,
      log,
    })
  } catch (error) {
    post({ type: 'init-error', error: toTrialError(error, 'E_WORKER_INIT') })
    return
  }
  const controllers = new Map<number, AbortController>()
  port.on('message', async (m: ToWorker) => {
    if (m.type === 'abort') controllers.get(m.trialId)?.abort()
    else if (m.type === 'close') {
      try {
        await evaluator.dispose?.()
      } finally {
        process.exit(0)
      }
    } else if (m.type === 'eval') {
      const controller = new AbortController()
      controllers.set(m.task.trialId, controller)
      const { outcome, startedAt, finishedAt } = await runEvaluation(
        evaluator,
        space,
        m.task,
        controller.signal,
        (p) =>
          post({
            type: 'progress',
            trialId: m.task.trialId,
            progress: { fraction: p.fraction, ...(p.message ? { message: p.message } : {}) },
          }),
      )
      controllers.delete(m.task.trialId)
      const done: FromWorker = {
        type: 'done',
        trialId: m.task.trialId,
        outcome,
        startedAt,
        finishedAt,
      }
      try {
        post(done)
      } catch (error) {
        // the outcome cannot be copied to the main thread (checked metrics always can)
        post({
          ...done,
          outcome: {
            error: {
              code: 'E_BAD_METRICS',
              message: `The outcome of this trial cannot be sent from its worker thread: ${(error as Error)?.message ?? String(error)}`,
            },
          },
        })
      }
    }
  })
  post({ type: 'ready' })
}

await main()
