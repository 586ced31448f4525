import { parentPort, workerData } from 'node:worker_threads'
import { isNaskitError, type StrategyPlugin } from '@naskit/core'
import { resolveStrategy } from './resolve'
import { runNb201 } from './suite'
import { loadNb201Table } from './table'
import type { WorkerInit, WorkerReply, WorkerRequest } from './workers'

// A suite worker: loads the table and the strategies once, then runs the jobs it is sent.
const init = workerData as WorkerInit
const port = parentPort
if (!port) throw new Error('@naskit/benchmarks: worker.js runs only as a worker thread.')

const post = (m: WorkerReply) => port.postMessage(m)

async function main(): Promise<void> {
  const table = loadNb201Table(init.tablePath)
  const plugins: StrategyPlugin[] = []
  for (const e of init.entries)
    plugins.push(await resolveStrategy(e.spec, init.cwd, init.lookupDirs ?? []))
  port?.on('message', async (msg: WorkerRequest) => {
    if (msg.type === 'close') {
      port.close()
      return
    }
    const entry = init.entries[msg.entry]
    const plugin = plugins[msg.entry]
    try {
      if (!entry || !plugin) throw new Error(`no strategy #${msg.entry}`)
      const run = await runNb201({
        table,
        dataset: init.dataset,
        plugin,
        options: entry.options,
        seed: msg.seed,
        queries: init.queries,
        batch: init.batch,
        label: entry.label,
      })
      post({ type: 'done', slot: msg.slot, run })
    } catch (e) {
      post({
        type: 'error',
        slot: msg.slot,
        code: isNaskitError(e) ? e.code : 'E_WORKER',
        message: (e as Error)?.message ?? String(e),
      })
    }
  })
  post({ type: 'ready' })
}

main().catch((e: unknown) => {
  post({
    type: 'error',
    slot: -1,
    code: isNaskitError(e) ? e.code : 'E_WORKER',
    message: (e as Error)?.message ?? String(e),
  })
})
