import { join } from 'node:path'
import { nb201Space, Rng } from '@naskit/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { trialRngState } from '../src/evaluate'
import { RedisExecutor, runWorker } from '../src/index'
import { fixtures } from './helpers'
import { needs } from './optional'
import { RedisServer, redisServerBinary } from './redis-server'

const haveRedis = needs({
  name: 'redis-server',
  available: redisServerBinary() !== null,
  tests: 'the distributed-trial tests on a real Redis server',
  enable: 'apt-get install -y redis-server',
})

async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

describe.skipIf(!haveRedis)('a Redis executor with no worker taking trials', () => {
  let server: RedisServer
  beforeAll(async () => {
    server = await RedisServer.start({ password: 'rel-secret' })
  })
  afterAll(async () => {
    await server?.dispose()
  })

  it('warns after a while, and again, with the command that starts a worker', async () => {
    const space = nb201Space()
    const warnings: string[] = []
    const executor = new RedisExecutor({
      url: server.url,
      queue: 'rel-queue',
      experimentId: 'rel-no-worker',
      evaluator: {
        spec: join(fixtures, 'sleep-evaluator.ts'),
        name: 'sleep',
        options: { delayMs: 10, logFile: '' },
        version: null,
        packageName: null,
      },
      space: space.toJSON(),
      seed: 1,
      slots: 2,
      log: { info() {}, warn: (m) => void warnings.push(m) },
      reconcileMs: 50,
      noWorkerWarnMs: 300,
    })
    await executor.start()
    const controller = new AbortController()
    let worker: ReturnType<typeof runWorker> | null = null
    try {
      const run = executor.run({
        trialId: 0,
        arch: space.sample(new Rng(1)),
        rngState: trialRngState(1, 0),
      })
      await waitFor(() => warnings.length >= 2, 10_000, 'two warnings')
      expect(warnings[0]).toMatch(
        /^No worker has taken a trial of this search for \d+ s \(1 waiting in queue "rel-queue" on redis:\/\/127\.0\.0\.1:\d+; no worker is connected to it\)\./,
      )
      expect(warnings[0]).toContain(
        `Start a worker with: naskit worker --executor redis://127.0.0.1:${server.port} --queue rel-queue (and the password in NASKIT_REDIS_PASSWORD)`,
      )
      expect(warnings.join('\n')).not.toContain('rel-secret')
      // once a worker takes the trial, the warnings stop
      worker = runWorker({ url: server.url, queue: 'rel-queue', signal: controller.signal })
      const report = await run.done
      expect('metrics' in report.outcome).toBe(true)
      const seen = warnings.length
      await new Promise((r) => setTimeout(r, 600))
      expect(warnings).toHaveLength(seen)
    } finally {
      controller.abort()
      await worker
      await executor.close()
    }
  }, 30_000)
})
