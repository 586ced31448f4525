// What telling trials in the order they were asked (the default, which makes a seeded parallel
// search run the same trials in every run) costs in throughput against telling them as they
// finish, when evaluation times vary. The evaluator sleeps (no CPU), for a time drawn from the
// trial's own RNG stream, so both orders run the same evaluations for the same times.
//   npx tsx --conditions=@naskit/source bench/tell-order.bench.ts   (about 90 s)
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { defineEvaluator, nb201Space } from '@naskit/core'
import { runExperiment } from '../src/index'

const TRIALS = Number(process.env.BENCH_TRIALS ?? 240)
const MEAN_MS = 100

/** Sleeps for a time from the trial's RNG: uniform in [min, max] ms, or exponential. */
const sleeper = defineEvaluator({
  name: 'sleeper',
  description: 'Sleeps for a time drawn from the trial RNG.',
  cost: 'cheap',
  options: {},
  create: () => ({
    name: 'sleeper',
    async evaluate(_arch, ctx) {
      const u = ctx.rng.next()
      const ms = spread === 'exponential' ? -MEAN_MS * Math.log(1 - u) : MEAN_MS * (0.5 + u) // 50–150 ms
      await new Promise((resolve) => setTimeout(resolve, ms))
      return { objective: u }
    },
  }),
})

let spread: 'uniform' | 'exponential' = 'uniform'

async function rate(workers: number, tellOrder: 'trial-id' | 'finish'): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'naskit-bench-'))
  try {
    const t0 = performance.now()
    const result = await runExperiment({
      out: join(dir, 'exp'),
      config: { space: nb201Space(), evaluator: sleeper, budget: TRIALS, workers, seed: 1 },
      tellOrder,
    })
    if (result.trials.length !== TRIALS) throw new Error('not every trial was stored')
    return (TRIALS / (performance.now() - t0)) * 1000
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const rows: Array<Record<string, unknown>> = []
console.log(`node ${process.version}, load ${loadavg()[0]?.toFixed(1)}, ${TRIALS} trials per run`)
for (const s of ['uniform', 'exponential'] as const) {
  spread = s
  for (const workers of [2, 4, 8]) {
    const finish = await rate(workers, 'finish')
    const ordered = await rate(workers, 'trial-id')
    const ratio = ordered / finish
    rows.push({ spread: s, workers, finish, ordered, ratio })
    console.log(
      `${s.padEnd(11)} times, ${workers} workers: as finished ${finish.toFixed(1)} trials/s, in order ${ordered.toFixed(1)} trials/s (${(ratio * 100).toFixed(0)}%)`,
    )
  }
}
writeFileSync(
  join(import.meta.dirname, 'results', 'tell-order.json'),
  `${JSON.stringify({ meanMs: MEAN_MS, trials: TRIALS, node: process.version, rows }, null, 2)}\n`,
)
