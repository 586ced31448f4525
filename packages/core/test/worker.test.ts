import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Worker } from 'node:worker_threads'
import { describe, expect, it } from 'vitest'
import { startWorker, workerLaunch } from '../src/node/index'

const reply = (worker: Worker) =>
  new Promise<Record<string, unknown>>((resolve, reject) => {
    worker.once('message', (m) => {
      void worker.terminate()
      resolve(m)
    })
    worker.once('error', reject)
  })

describe('startWorker', () => {
  it('starts the built entry when it exists', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'naskit-worker-'))
    const built = join(dir, 'worker.mjs')
    writeFileSync(
      built,
      "import { parentPort, workerData } from 'node:worker_threads'\nparentPort.postMessage({ workerData, execArgv: process.execArgv })\n",
    )
    expect(workerLaunch(built)).toMatchObject({ eval: false, execArgv: [] })
    const m = await reply(startWorker(pathToFileURL(built), { n: 1 }, { sourceEntry: built }))
    expect(m).toEqual({ workerData: { n: 1 }, execArgv: [] })
  })

  it('starts the TypeScript source through tsx with the @naskit/source condition', async () => {
    const built = new URL('./fixtures/worker-echo.js', import.meta.url)
    const sourceEntry = new URL('./fixtures/worker-echo.ts', import.meta.url)
    expect(workerLaunch(built, { sourceEntry })).toMatchObject({ eval: true })
    const m = await reply(startWorker(built, { n: 2 }, { sourceEntry }))
    expect(m).toEqual({
      workerData: { n: 2 },
      execArgv: ['--conditions=@naskit/source'],
      firstOp: 'none',
    })
  })

  it('says what is missing when neither entry exists', () => {
    const dir = mkdtempSync(join(tmpdir(), 'naskit-worker-'))
    const built = join(dir, 'worker.js')
    expect(workerLaunch(built, { sourceEntry: join(dir, 'worker.ts') })).toBeNull()
    expect(() => startWorker(built, null)).toThrow(
      expect.objectContaining({ code: 'E_WORKER_INIT', message: expect.stringContaining(built) }),
    )
  })
})
