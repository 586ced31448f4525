import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  parseRedisUrl,
  type RunEvent,
  readExperiment,
  redactRedisUrl,
  runCli,
  runExperiment,
  runWorker,
  STORE_FILE,
  Store,
} from '../src/index'
import { captureIo, exited, fixtures, spawnCli, tmp } from './helpers'
import { needs } from './optional'
import { freePort, RedisServer, redisServerBinary, selfSignedCert } from './redis-server'

const sleepEval = join(fixtures, 'sleep-evaluator.ts')
const sleepPlugin = (await import('./fixtures/sleep-evaluator')).default
const haveRedis = needs({
  name: 'redis-server',
  available: redisServerBinary() !== null,
  tests: 'the distributed-trial tests on a real Redis server',
  enable: 'apt-get install -y redis-server',
})

/** Per trial id, how many evaluations started and ended, from the fixture's log. */
function evaluations(
  logFile: string,
): Map<number, { starts: number; ends: number; pids: Set<number> }> {
  const out = new Map<number, { starts: number; ends: number; pids: Set<number> }>()
  let text = ''
  try {
    text = readFileSync(logFile, 'utf8')
  } catch {
    return out
  }
  for (const line of text.split('\n')) {
    const [kind, id, pid] = line.split(' ')
    if (kind !== 'start' && kind !== 'end') continue
    const e = out.get(Number(id)) ?? { starts: 0, ends: 0, pids: new Set<number>() }
    if (kind === 'start') e.starts++
    else e.ends++
    e.pids.add(Number(pid))
    out.set(Number(id), e)
  }
  return out
}

async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

function expectOncePerTrial(
  trials: Array<{ id: number; status: string; error?: unknown }>,
  n: number,
): void {
  expect(trials.map((t) => t.id).sort((a, b) => a - b)).toEqual([...Array(n).keys()])
  const failed = trials.filter((t) => t.status !== 'ok').map((t) => ({ id: t.id, error: t.error }))
  expect(failed).toEqual([])
}

/** In-process workers, stopped by the returned function. */
function startWorkers(url: string, n: number, extra: { lockMs?: number } = {}) {
  const controller = new AbortController()
  const runs = Array.from({ length: n }, (_, i) =>
    runWorker({
      url,
      name: `inproc-${i}`,
      signal: controller.signal,
      lockMs: extra.lockMs ?? 2000,
    }),
  )
  return async () => {
    controller.abort()
    return await Promise.all(runs)
  }
}

describe('Redis URLs', () => {
  it('parses hosts, ports, databases, TLS and credentials, and redacts them', () => {
    expect(parseRedisUrl('redis://127.0.0.1:6380')).toMatchObject({
      host: '127.0.0.1',
      port: 6380,
      db: 0,
      tls: false,
      display: 'redis://127.0.0.1:6380',
    })
    const t = parseRedisUrl('rediss://user:p%40ss@cache.example.com/3', {})
    expect(t).toMatchObject({
      host: 'cache.example.com',
      port: 6379,
      db: 3,
      tls: true,
      username: 'user',
      password: 'p@ss',
    })
    expect(t.display).toBe('rediss://cache.example.com/3')
    expect(redactRedisUrl('redis://:secret@10.0.0.2:7000')).toBe('redis://10.0.0.2:7000')
    expect(parseRedisUrl('redis://h:1', { NASKIT_REDIS_PASSWORD: 'envpass' }).password).toBe(
      'envpass',
    )
    expect(() => parseRedisUrl('http://h:1')).toThrow(/redis:\/\/host:port/)
    expect(() => parseRedisUrl('redis://h:1/x')).toThrow(/database/)
  })

  it('refuses an evaluator object with a Redis executor, and a worker without a URL', async () => {
    await expect(
      runExperiment({
        out: join(tmp(), 'x'),
        config: {
          space: 'nb201',
          evaluator: sleepPlugin as never,
          executor: 'redis://127.0.0.1:1',
          budget: 1,
        },
      }),
    ).rejects.toMatchObject({ code: 'E_BAD_CONFIG' })
    const { io, err } = captureIo()
    expect(await runCli(['worker'], io)).toBe(1)
    expect(err.join('')).toMatch(/E_BAD_CONFIG.*--executor redis:\/\/host:port/)
  })
})

describe.skipIf(!haveRedis)('distributed trials on Redis', () => {
  // the server .ci/run started (NASKIT_TEST_REDIS_URL), or one of our own
  let redis: { url: string; dispose(): Promise<void> }
  beforeAll(async () => {
    const given = process.env.NASKIT_TEST_REDIS_URL
    redis = given ? { url: given, dispose: async () => {} } : await RedisServer.start()
  })
  afterAll(async () => {
    await redis?.dispose()
  })

  it('runs a search on in-process workers with the same trials as on one machine', async () => {
    const dir = tmp()
    const config = {
      space: 'nb201' as const,
      strategy: 'random',
      evaluator: { name: sleepEval, options: { delayMs: 5 } },
      budget: 16,
      seed: 4,
      workers: 3,
    }
    const local = await runExperiment({ out: join(dir, 'local'), config })
    const stopWorkers = startWorkers(redis.url, 2)
    const events: RunEvent[] = []
    const remote = await runExperiment({
      out: join(dir, 'remote'),
      config: { ...config, executor: redis.url },
      onEvent: (e) => events.push(e),
    })
    const results = await stopWorkers()
    expect(remote.status).toBe('completed')
    expect(events.find((e) => e.type === 'start')).toMatchObject({ executor: 'redis', workers: 3 })
    const brief = (r: typeof local) =>
      r.trials.map((t) => ({ id: t.id, key: t.key, objective: t.objective }))
    expect(brief(remote)).toEqual(brief(local))
    expect(new Set(remote.trials.map((t) => t.worker))).toEqual(new Set(['inproc-0', 'inproc-1']))
    expect(results.reduce((s, r) => s + r.trials, 0)).toBe(16)
  })

  it('3 worker processes, 60 trials, one worker SIGKILLed mid-trial: every trial finishes exactly once', async () => {
    const dir = tmp()
    const logFile = join(dir, 'evals.log')
    writeFileSync(logFile, '')
    // the lock outlives a live worker's renewal delays on a busy machine; a dead worker's job
    // is taken over once it expires
    const workers = [0, 1, 2].map((i) =>
      spawnCli(
        ['worker', '--executor', redis.url, '--lock-ms', '4000', '--name', `proc-${i}`],
        dir,
      ),
    )
    const victim = workers[0]!
    const search = runExperiment({
      out: join(dir, 'exp'),
      config: {
        space: 'nb201',
        strategy: 'random',
        evaluator: { name: sleepEval, options: { delayMs: 150, logFile } },
        budget: 60,
        seed: 7,
        workers: 4,
        executor: redis.url,
      },
    })
    // kill the victim once it has finished a few trials and is inside another one
    let killedTrial = -1
    await waitFor(
      () => {
        const ev = evaluations(logFile)
        let done = 0
        let open = -1
        for (const [id, e] of ev) {
          if (!e.pids.has(victim.pid as number)) continue
          if (e.ends > 0) done++
          else open = id
        }
        if (done >= 3 && open >= 0) {
          killedTrial = open
          return true
        }
        return false
      },
      30_000,
      'the victim worker to be inside a trial',
    )
    victim.kill('SIGKILL')
    const result = await search
    for (const w of workers.slice(1)) w.kill('SIGTERM')
    await Promise.all(workers.map((w) => exited(w)))
    expect(result.status).toBe('completed')
    expectOncePerTrial(result.trials, 60)
    const ev = evaluations(logFile)
    // the killed trial started twice (victim, then another worker) and ended once
    expect(ev.get(killedTrial)).toMatchObject({ starts: 2, ends: 1 })
    for (const [id, e] of ev)
      if (id !== killedTrial) expect(e).toMatchObject({ starts: 1, ends: 1 })
    const rerun = result.trials.find((t) => t.id === killedTrial)
    expect(rerun?.worker).toMatch(/^proc-[12]$/)
    expect(new Set(result.trials.map((t) => t.worker))).toEqual(
      new Set(['proc-0', 'proc-1', 'proc-2']),
    )
  }, 90_000)

  it('a coordinator killed mid-run resumes and picks up the jobs still in Redis', async () => {
    const dir = tmp()
    const logFile = join(dir, 'evals.log')
    writeFileSync(logFile, '')
    const out = join(dir, 'exp')
    const stopWorkers = startWorkers(redis.url, 3)
    const args = [
      'search',
      '--space',
      'nb201',
      '--strategy',
      'random',
      '--evaluator',
      sleepEval,
      '--evaluator-options',
      JSON.stringify({ delayMs: 120, logFile }),
      '--budget',
      '40',
      '--seed',
      '3',
      '--workers',
      '4',
      '--executor',
      redis.url,
      '--out',
      out,
      '--json',
    ]
    const first = spawnCli(args, dir)
    await waitFor(
      () => [...evaluations(logFile).values()].filter((e) => e.ends > 0).length >= 12,
      30_000,
      'a dozen finished trials',
    )
    first.kill('SIGKILL')
    await exited(first)
    const store = Store.open(out, { readonly: true })
    const running = store.runningTrials().map((t) => t.id)
    store.close()
    expect(running.length).toBeGreaterThan(0)
    // the workers go on with the jobs in Redis while no coordinator listens
    await new Promise((r) => setTimeout(r, 400))
    const second = spawnCli(['search', '--out', out, '--json'], dir)
    const { code } = await exited(second)
    await stopWorkers()
    expect(second.output.stderr).toBe('')
    expect(code).toBe(0)
    const data = await readExperiment(out)
    expectOncePerTrial(data.trials, 40)
    // nothing was evaluated twice: the resumed coordinator found its running trials' jobs
    for (const e of evaluations(logFile).values()) expect(e).toMatchObject({ starts: 1, ends: 1 })
  }, 90_000)

  it('survives a Redis restart mid-run (jobs lost with the server are queued again)', async () => {
    const own = await RedisServer.start()
    try {
      const dir = tmp()
      const logFile = join(dir, 'evals.log')
      writeFileSync(logFile, '')
      const stopWorkers = startWorkers(own.url, 2)
      const warnings: string[] = []
      const search = runExperiment({
        out: join(dir, 'exp'),
        config: {
          space: 'nb201',
          strategy: 'random',
          evaluator: { name: sleepEval, options: { delayMs: 100, logFile } },
          budget: 30,
          seed: 5,
          workers: 3,
          executor: own.url,
        },
        onEvent: (e) => {
          if (e.type === 'warning') warnings.push(e.message)
        },
      })
      await waitFor(
        () => [...evaluations(logFile).values()].filter((e) => e.ends > 0).length >= 8,
        30_000,
        'eight finished trials',
      )
      await own.restart(300)
      const result = await search
      await stopWorkers()
      expect(result.status).toBe('completed')
      expectOncePerTrial(result.trials, 30)
      expect(
        warnings.some((w) => w.includes(`cannot reach Redis at redis://127.0.0.1:${own.port}`)),
      ).toBe(true)
    } finally {
      await own.dispose()
    }
  }, 90_000)

  it('waits for an unreachable Redis with a clear warning, then runs', async () => {
    const port = await freePort()
    const dir = tmp()
    const warnings: string[] = []
    let server: RedisServer | null = null
    let stopWorkers: (() => Promise<unknown>) | null = null
    const search = runExperiment({
      out: join(dir, 'exp'),
      config: {
        space: 'nb201',
        evaluator: { name: sleepEval, options: { delayMs: 1 } },
        budget: 5,
        executor: `redis://127.0.0.1:${port}`,
      },
      onEvent: (e) => {
        if (e.type === 'warning') warnings.push(e.message)
      },
    })
    try {
      await waitFor(() => warnings.length > 0, 10_000, 'a warning')
      expect(warnings[0]).toMatch(
        new RegExp(`cannot reach Redis at redis://127\\.0\\.0\\.1:${port}; retrying with backoff`),
      )
      server = await RedisServer.start({ port })
      stopWorkers = startWorkers(server.url, 1)
      const result = await search
      expect(result.status).toBe('completed')
      expect(result.trials).toHaveLength(5)
    } finally {
      await stopWorkers?.()
      await server?.dispose()
    }
  }, 60_000)

  it('works over TLS (rediss://) with a password, which stays out of the store', async () => {
    const certDir = tmp()
    const tls = selfSignedCert(certDir)
    const server = await RedisServer.start({ password: 's3cret', tls })
    const previous = process.env.NASKIT_REDIS_CA
    process.env.NASKIT_REDIS_CA = tls.ca
    try {
      const dir = tmp()
      expect(server.url).toBe(`rediss://:s3cret@127.0.0.1:${server.port}`)
      const stopWorkers = startWorkers(server.url, 1)
      const result = await runExperiment({
        out: join(dir, 'exp'),
        config: {
          space: 'nb201',
          evaluator: { name: sleepEval, options: { delayMs: 1 } },
          budget: 4,
          executor: server.url,
        },
      })
      await stopWorkers()
      expect(result.status).toBe('completed')
      expect(result.trials).toHaveLength(4)
      const files = readdirSync(join(dir, 'exp'))
      expect(files).toContain(STORE_FILE)
      for (const f of files)
        expect(readFileSync(join(dir, 'exp', f)).toString('latin1')).not.toContain('s3cret')
      const store = Store.open(join(dir, 'exp'), { readonly: true })
      expect(store.getMeta<{ executor: string }>('config')?.executor).toBe(
        `rediss://127.0.0.1:${server.port}`,
      )
      store.close()

      // a wrong password: a clear warning, and an interrupt ends the wait
      const warnings: string[] = []
      const controller = new AbortController()
      const wrong = runExperiment({
        out: join(dir, 'wrong'),
        config: {
          space: 'nb201',
          evaluator: { name: sleepEval, options: { delayMs: 1 } },
          budget: 1,
          executor: `rediss://:nope@127.0.0.1:${server.port}`,
        },
        signal: controller.signal,
        onEvent: (e) => {
          if (e.type === 'warning') warnings.push(e.message)
        },
      })
      await waitFor(() => warnings.length > 0, 10_000, 'a warning')
      controller.abort()
      await expect(wrong).rejects.toMatchObject({ code: 'E_REDIS_UNAVAILABLE' })
      expect(warnings[0]).toMatch(/refused the credentials.*NASKIT_REDIS_PASSWORD/)
    } finally {
      if (previous === undefined) delete process.env.NASKIT_REDIS_CA
      else process.env.NASKIT_REDIS_CA = previous
      await server.dispose()
    }
  }, 60_000)

  it('a worker with another evaluator version refuses, hands the job back and stops', async () => {
    const dir = tmp()
    const logFile = join(dir, 'evals.log')
    writeFileSync(logFile, '')
    const odd = spawnCli(['worker', '--executor', redis.url, '--name', 'odd'], dir, {
      NASKIT_FIXTURE_VERSION: '9.9.9',
    })
    const warnings: string[] = []
    const search = runExperiment({
      out: join(dir, 'exp'),
      config: {
        space: 'nb201',
        evaluator: { name: sleepEval, options: { delayMs: 20, logFile } },
        budget: 6,
        executor: redis.url,
      },
      onEvent: (e) => {
        if (e.type === 'warning') warnings.push(e.message)
      },
    })
    const refused = await exited(odd)
    const stopWorkers = startWorkers(redis.url, 1)
    const result = await search
    await stopWorkers()
    expect(refused.code).toBe(3)
    expect(odd.output.stderr).toMatch(
      /E_VERSION_MISMATCH: evaluator "sleep" is version 9\.9\.9 here but 1\.0\.0 on the coordinator/,
    )
    expect(warnings.some((w) => /Worker odd refused trial \d+: E_VERSION_MISMATCH/.test(w))).toBe(
      true,
    )
    expectOncePerTrial(result.trials, 6)
    expect(result.trials.every((t) => t.worker === 'inproc-0')).toBe(true)
  }, 60_000)
})
