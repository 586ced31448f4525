import type { Worker } from 'node:worker_threads'
import { NaskitError } from '@naskit/core'
import { startWorker, workerLaunch } from '@naskit/core/node'
import type { RunRecord } from './suite'
import type { Nb201Dataset } from './table'

/** What a suite worker is started with. */
export interface WorkerInit {
  tablePath: string
  dataset: Nb201Dataset
  queries: number
  batch: number
  cwd: string
  lookupDirs?: string[]
  entries: Array<{ label: string; spec: string; options?: unknown }>
}

export type WorkerRequest =
  | { type: 'run'; slot: number; entry: number; seed: number }
  | { type: 'close' }
export type WorkerReply =
  | { type: 'ready' }
  | { type: 'done'; slot: number; run: RunRecord }
  | { type: 'error'; slot: number; code: string; message: string }

const WORKER_ENTRY = new URL('./worker.js', import.meta.url)
const WORKER_SOURCE = new URL('./worker.ts', import.meta.url)

/** Whether suite workers can start here: the built `worker.js`, or the sources with tsx. */
export function canStartWorkers(): boolean {
  return (
    import.meta.url.startsWith('file:') &&
    workerLaunch(WORKER_ENTRY, { sourceEntry: WORKER_SOURCE }) !== null
  )
}

/**
 * Runs jobs on `count` worker threads, each loading the table and the strategies once. Results
 * come back by slot; the first error stops every worker and rejects.
 */
export async function runOnWorkers(
  init: WorkerInit,
  jobs: Array<{ slot: number; entry: number; seed: number }>,
  count: number,
  onRun: (slot: number, run: RunRecord) => void,
): Promise<void> {
  if (!canStartWorkers())
    throw new NaskitError(
      'E_WORKER',
      'No worker script was found next to @naskit/benchmarks; build the package or run with workers: 1.',
    )
  const workers: Worker[] = []
  let next = 0
  let done = 0
  return new Promise<void>((resolve, reject) => {
    let failed = false
    const fail = (e: Error) => {
      if (failed) return
      failed = true
      for (const w of workers) void w.terminate()
      reject(e)
    }
    const feed = (w: Worker) => {
      if (failed) return
      const job = jobs[next++]
      if (job) w.postMessage({ type: 'run', ...job } satisfies WorkerRequest)
      else w.postMessage({ type: 'close' } satisfies WorkerRequest)
    }
    for (let i = 0; i < Math.min(count, jobs.length); i++) {
      const w = startWorker(WORKER_ENTRY, init, { sourceEntry: WORKER_SOURCE })
      workers.push(w)
      w.on('message', (m: WorkerReply) => {
        if (m.type === 'ready') feed(w)
        else if (m.type === 'done') {
          onRun(m.slot, m.run)
          done++
          if (done === jobs.length) {
            for (const x of workers) void x.terminate()
            resolve()
          } else feed(w)
        } else fail(new NaskitError(m.code, m.message))
      })
      w.on('error', (e) => fail(e))
      w.on('exit', (code) => {
        if (!failed && done < jobs.length && code !== 0)
          fail(new NaskitError('E_WORKER', `A benchmark worker exited with code ${code}.`))
      })
    }
  })
}
