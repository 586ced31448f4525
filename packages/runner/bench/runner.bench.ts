// Runner benchmarks: scheduler overhead per trial (no-op evaluator, SQLite commit included)
// and the speed-up of a CPU-bound evaluator on 2 worker threads over 1.
//   pnpm bench            (all)
//   pnpm bench overhead   (one of: overhead, random, threads)
import { mkdtempSync, rmSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { defineEvaluator, defineStrategy, nb201Space, Rng } from '@naskit/core'
import { type RunEvent, runExperiment } from '../src/index'

const only = process.argv[2]
const cpuEvaluator = `${join(import.meta.dirname, '..', 'test', 'fixtures', 'cpu-evaluator.ts')}#cpu`

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] as number
}

const noop = defineEvaluator({
  name: 'noop',
  description: 'Returns at once.',
  cost: 'cheap',
  options: {},
  create: () => ({ name: 'noop', evaluate: () => ({ objective: 0.5 }) }),
})

/** Samples uniformly with a constant-size state, so the figure is the runner's, not the strategy's. */
const sampler = defineStrategy({
  name: 'sampler',
  kind: 'sampling',
  description: 'Uniform samples (repeats allowed); its state is only its RNG.',
  options: {},
  create({ space, rng: initial }) {
    let rng = initial
    return {
      ask: (n) => Array.from({ length: n }, () => ({ arch: space.sample(rng) })),
      tell() {},
      state: () => rng.state(),
      restore(s) {
        rng = Rng.fromState(s)
      },
    }
  },
})

async function timedRun(config: Parameters<typeof runExperiment>[0]['config']) {
  const dir = mkdtempSync(join(tmpdir(), 'naskit-bench-'))
  const stamps: number[] = []
  let startAt = 0
  let endAt = 0
  try {
    const t0 = performance.now()
    const result = await runExperiment({
      out: join(dir, 'exp'),
      ...(config ? { config } : {}),
      onEvent: (e: RunEvent) => {
        if (e.type === 'start') startAt = performance.now()
        if (e.type === 'trial') stamps.push(performance.now())
        if (e.type === 'end') endAt = performance.now()
      },
    })
    const total = performance.now() - t0
    const gaps = stamps.slice(1).map((t, i) => t - (stamps[i] as number))
    return { result, total, loop: endAt - startAt, gaps }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const fmt = (ms: number) => `${ms.toFixed(3)} ms`

console.log(`node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'})`)

if (!only || only === 'overhead') {
  const trials = 10_000
  const { total, loop, gaps, result } = await timedRun({
    space: nb201Space(),
    strategy: sampler,
    evaluator: noop,
    budget: trials,
    seed: 1,
  })
  if (result.trials.length !== trials) throw new Error('not every trial was stored')
  console.log(
    `\nScheduler overhead, no-op evaluator, ${trials} trials, 1 in flight (ask + evaluate + tell + SQLite commit per trial):`,
  )
  console.log(
    `  per trial: median ${fmt(median(gaps))}, p90 ${fmt(quantile(gaps, 0.9))}, p99 ${fmt(quantile(gaps, 0.99))}   (target: median ≤ 1 ms)`,
  )
  console.log(
    `  ${trials} trials: ${(loop / 1000).toFixed(2)} s in the loop, ${(total / 1000).toFixed(2)} s including setup   (target: < 10 s)`,
  )
}

if (!only || only === 'random') {
  const trials = 2_000
  const { loop, gaps } = await timedRun({
    space: nb201Space(),
    strategy: 'random',
    evaluator: noop,
    budget: trials,
    seed: 1,
  })
  console.log(
    `\nSame with the core random strategy (its checkpoint lists every key seen, so it grows), ${trials} trials:`,
  )
  console.log(
    `  per trial: median ${fmt(median(gaps))}, last 100 median ${fmt(median(gaps.slice(-100)))}; ${(loop / 1000).toFixed(2)} s`,
  )
}

if (!only || only === 'threads') {
  const trials = Number(process.env.BENCH_TRIALS ?? 32)
  const iterations = Number(process.env.BENCH_ITERATIONS ?? 20_000_000)
  const run = async (workers: number) => {
    const { loop, result } = await timedRun({
      space: 'nb201',
      evaluator: { name: cpuEvaluator, options: { iterations } },
      budget: trials,
      workers,
      seed: 1,
      executor: 'threads',
    })
    if (result.trials.length !== trials) throw new Error('not every trial was stored')
    const durations = result.trials.map((t) => t.timings?.durationMs ?? 0)
    return { rate: (trials / loop) * 1000, perTrial: median(durations) }
  }
  await run(1) // warm-up (JIT, file cache)
  const one = await run(1)
  const two = await run(2)
  console.log(
    `\nCPU-bound evaluator (${iterations.toExponential(0)} iterations, ~${one.perTrial.toFixed(0)} ms per trial), ${trials} trials on worker threads:`,
  )
  console.log(
    `  1 worker: ${one.rate.toFixed(2)} trials/s; 2 workers: ${two.rate.toFixed(2)} trials/s; speed-up ${(two.rate / one.rate).toFixed(2)}×   (target: ≥ 1.8×)`,
  )
  console.log(
    `  median time inside the evaluator: ${one.perTrial.toFixed(0)} ms with 1 worker, ${two.perTrial.toFixed(0)} ms with 2 (equal when each worker has a core to itself)`,
  )
  console.log(
    `  load average after the run: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(', ')} (other processes compete for the CPUs above ${cpus().length})`,
  )
}
