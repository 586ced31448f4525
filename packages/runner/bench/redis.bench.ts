// Distributed trials on Redis: trials per second with 4 `naskit worker` processes against 1,
// with an evaluator that sleeps 200 ms, and the queueing overhead per trial (a 0 ms evaluator,
// one trial in flight: the whole round trip coordinator → Redis → worker → Redis → coordinator,
// SQLite commit included). Starts its own redis-server on a free port.
//   pnpm bench:redis [rounds]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { type ChildProcess, spawn } from 'node:child_process'
import { pathToFileURL } from 'node:url'
import { findPackage } from '@naskit/core/node'
import { RedisServer } from '../test/redis-server'
import { runExperiment } from '../src/index'

const rounds = Number(process.argv[2] ?? 3)
const sleepEval = join(import.meta.dirname, '..', 'test', 'fixtures', 'sleep-evaluator.ts')

const packageDir = join(import.meta.dirname, '..')

/** `naskit …` from the TypeScript sources in a child process. */
function spawnCli(args: string[], cwd: string): ChildProcess & { output: { stderr: string } } {
  const tsx = findPackage('tsx', [packageDir])
  if (!tsx) throw new Error('tsx is needed to run the CLI from its sources')
  const child = spawn(
    process.execPath,
    [
      '--conditions=@naskit/source',
      '--import',
      pathToFileURL(tsx.entry).href,
      join(packageDir, 'src', 'cli.ts'),
      ...args,
    ],
    { cwd, stdio: ['ignore', 'ignore', 'pipe'] },
  )
  const output = { stderr: '' }
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    output.stderr += d
  })
  return Object.assign(child, { output })
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve()
    else child.on('exit', () => resolve())
  })
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2
}

async function withWorkers<T>(
  url: string,
  n: number,
  dir: string,
  fn: () => Promise<T>,
): Promise<T> {
  const workers = Array.from({ length: n }, (_, i) =>
    spawnCli(['worker', '--executor', url, '--name', `bench-${i}`], dir),
  )
  // wait until every worker listens
  const deadline = Date.now() + 60_000
  while (!workers.every((w) => /taking trials/.test(w.output.stderr))) {
    if (Date.now() > deadline) throw new Error('workers did not start')
    await new Promise((r) => setTimeout(r, 50))
  }
  try {
    return await fn()
  } finally {
    for (const w of workers) w.kill('SIGTERM')
    await Promise.all(workers.map((w) => exited(w)))
  }
}

async function search(
  url: string,
  dir: string,
  name: string,
  opts: { trials: number; inFlight: number; delayMs: number },
) {
  const started = performance.now()
  const result = await runExperiment({
    out: join(dir, name),
    config: {
      space: 'nb201',
      strategy: 'random',
      evaluator: { name: sleepEval, options: { delayMs: opts.delayMs } },
      budget: opts.trials,
      workers: opts.inFlight,
      seed: 1,
      executor: url,
    },
  })
  const seconds = (performance.now() - started) / 1000
  if (result.trials.length !== opts.trials || result.trials.some((t) => t.status !== 'ok'))
    throw new Error(
      `${name}: expected ${opts.trials} ok trials, got ${result.trials.length} (${result.status} ${result.message}): ${JSON.stringify(result.trials.filter((t) => t.status !== 'ok').slice(0, 3))}`,
    )
  const evalMs =
    result.trials.reduce((s, t) => s + (t.timings?.durationMs ?? 0), 0) / result.trials.length
  return { perSecond: opts.trials / seconds, seconds, evalMs }
}

const redis = await RedisServer.start()
const dir = mkdtempSync(join(tmpdir(), 'naskit-redis-bench-'))
console.log(
  `redis bench: node ${process.version}, ${cpus().length} cores, load ${loadavg()[0]?.toFixed(1)}, ${rounds} rounds, redis-server on ${redis.url}`,
)
try {
  const one: number[] = []
  const four: number[] = []
  for (let r = 0; r < rounds; r++) {
    const a = await withWorkers(redis.url, 1, dir, () =>
      search(redis.url, dir, `one-${r}`, { trials: 25, inFlight: 1, delayMs: 200 }),
    )
    const b = await withWorkers(redis.url, 4, dir, () =>
      search(redis.url, dir, `four-${r}`, { trials: 100, inFlight: 4, delayMs: 200 }),
    )
    one.push(a.perSecond)
    four.push(b.perSecond)
    console.log(
      `round ${r + 1}: 1 worker ${a.perSecond.toFixed(2)} trials/s, 4 workers ${b.perSecond.toFixed(2)} trials/s, ratio ${(b.perSecond / a.perSecond).toFixed(2)}`,
    )
  }
  const ratios = one.map((o, i) => (four[i] as number) / o)
  const overhead: number[] = []
  await withWorkers(redis.url, 1, dir, async () => {
    for (let r = 0; r < rounds; r++) {
      const z = await search(redis.url, dir, `zero-${r}`, { trials: 200, inFlight: 1, delayMs: 0 })
      overhead.push(1000 / z.perSecond - z.evalMs)
    }
  })
  const summary = {
    sleepMs: 200,
    oneWorkerTrialsPerSecond: median(one),
    fourWorkersTrialsPerSecond: median(four),
    speedupMedian: median(ratios),
    speedups: ratios,
    overheadMsPerTrialMedian: median(overhead),
    overheadMsPerTrial: overhead,
    node: process.version,
    load: loadavg()[0],
  }
  console.log(
    `\n4 workers vs 1 (200 ms evaluator): median ${summary.speedupMedian.toFixed(2)}× (target ≥ 3.6×); 1 worker ${summary.oneWorkerTrialsPerSecond.toFixed(2)}/s, 4 workers ${summary.fourWorkersTrialsPerSecond.toFixed(2)}/s`,
  )
  console.log(
    `queueing overhead per trial (0 ms evaluator, 1 in flight, round trip incl. SQLite): median ${summary.overheadMsPerTrialMedian.toFixed(2)} ms`,
  )
  writeFileSync(
    join(import.meta.dirname, 'results', 'redis.json'),
    `${JSON.stringify(summary, null, 2)}\n`,
  )
} finally {
  await redis.dispose()
  rmSync(dir, { recursive: true, force: true })
}
