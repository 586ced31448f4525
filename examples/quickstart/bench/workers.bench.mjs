// Trials per minute of a small chain-space search on MNIST with 1 and with 2 worker threads.
// The same seeded configuration runs with workers: 1 and with workers: 2, each into a fresh
// temporary folder; the figure is finished trials per minute of wall time, start to end.
// With --rounds n the pair runs n times, the order flipping every round (1,2 then 2,1...), and
// the medians are reported, so that load from other processes weighs on both alike.
//
//   pnpm bench                                   (from examples/quickstart)
//   node --import tsx --conditions=@naskit/source bench/workers.bench.mjs [--trials 10] [--rounds 1] [--results DIR]
//
// With --results DIR, workers.json and workers.md are written there too.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { runExperiment } from '@naskit/runner'

const { values } = parseArgs({
  options: {
    trials: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '1' },
    seed: { type: 'string', default: '1' },
    results: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
})
const trials = Number(values.trials)
const rounds = Number(values.rounds)
const seed = Number(values.seed)

/** The quick start's chain space with a smaller per-trial training set. */
const config = (workers) => ({
  space: {
    builtIn: 'chain',
    options: {
      depth: { min: 4, max: 6 },
      widthMultiplier: { low: 0.5, high: 1.5, step: 0.25 },
      resolution: { low: 16, high: 28, step: 4 },
    },
  },
  strategy: 'random',
  evaluator: {
    name: 'mnist',
    options: {
      epochs: 1,
      trainSize: 1500,
      validationSize: 500,
      testSize: 500,
      baseChannels: 8,
      batchSize: 32,
      backend: 'wasm',
    },
  },
  budget: { trials },
  workers,
  executor: 'threads',
  seed,
})

async function run(workers) {
  const dir = mkdtempSync(path.join(os.tmpdir(), `naskit-workers-${workers}-`))
  const t0 = performance.now()
  try {
    const r = await runExperiment({
      config: config(workers),
      out: dir,
      baseDir: import.meta.dirname,
      log: { info() {}, warn() {} },
    })
    const wallMs = performance.now() - t0
    const ok = r.trials.filter((t) => t.status === 'ok')
    const busyMs = r.trials.reduce((s, t) => s + (t.timings?.durationMs ?? 0), 0)
    return {
      workers,
      status: r.status,
      trials: r.trials.length,
      ok: ok.length,
      wallS: wallMs / 1000,
      trialsPerMinute: r.trials.length / (wallMs / 60000),
      meanTrialS: busyMs / 1000 / Math.max(1, r.trials.length),
      bestObjective: r.best?.objective ?? null,
      archKeys: r.trials.map((t) => t.key).sort(),
    }
  } finally {
    if (!values.keep) rmSync(dir, { recursive: true, force: true })
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2
}
const runs = []
for (let r = 0; r < rounds; r++) {
  for (const workers of r % 2 === 0 ? [1, 2] : [2, 1]) {
    const res = await run(workers)
    runs.push({ round: r + 1, ...res })
    console.log(
      `round ${r + 1}, workers ${workers}: ${res.trials} trials in ${res.wallS.toFixed(1)} s, ${res.trialsPerMinute.toFixed(2)} trials/min`,
    )
  }
}
const by = (w) => runs.filter((r) => r.workers === w)
const one = { workers: 1, trialsPerMinute: median(by(1).map((r) => r.trialsPerMinute)) }
const two = { workers: 2, trialsPerMinute: median(by(2).map((r) => r.trialsPerMinute)) }
// the ratio within each round (both runs of a round saw similar load), then its median
const roundRatios = Array.from({ length: rounds }, (_, r) => {
  const inRound = runs.filter((x) => x.round === r + 1)
  const w1 = inRound.find((x) => x.workers === 1)
  const w2 = inRound.find((x) => x.workers === 2)
  return w2.trialsPerMinute / w1.trialsPerMinute
})
const ratio = median(roundRatios)
const sameArchs = runs.every((r) => JSON.stringify(r.archKeys) === JSON.stringify(runs[0].archKeys))
console.log(
  `median trials/min: 1 worker ${one.trialsPerMinute.toFixed(2)}, 2 workers ${two.trialsPerMinute.toFixed(2)}`,
)
console.log(
  `ratio 2 workers / 1 worker per round: ${roundRatios.map((r) => r.toFixed(2)).join(', ')}; median ${ratio.toFixed(2)}; same architectures: ${sameArchs}`,
)

const result = {
  benchmark: 'chain-space search on MNIST, trials per minute by worker threads',
  config: config(1),
  runs: runs.map(({ archKeys, ...rest }) => rest),
  medianTrialsPerMinute: { workers1: one.trialsPerMinute, workers2: two.trialsPerMinute },
  roundRatios,
  ratio,
  sameArchitectures: sameArchs,
  environment: {
    date: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    loadAverage1m: Number(os.loadavg()[0].toFixed(2)),
  },
}
console.log(JSON.stringify(result))
if (values.results) {
  mkdirSync(values.results, { recursive: true })
  writeFileSync(path.join(values.results, 'workers.json'), `${JSON.stringify(result, null, 2)}\n`)
  const row = (r) =>
    `| ${r.round} | ${r.workers} | ${r.trials} (${r.ok} ok) | ${r.wallS.toFixed(1)} | ${r.trialsPerMinute.toFixed(2)} | ${r.meanTrialS.toFixed(1)} |`
  writeFileSync(
    path.join(values.results, 'workers.md'),
    [
      '# Trials per minute by worker threads',
      '',
      `Command: \`node --import tsx --conditions=@naskit/source bench/workers.bench.mjs --trials ${trials} --rounds ${rounds}\` in examples/quickstart (\`pnpm bench\` runs the defaults)`,
      '',
      `Random search over the quick start's chain space on MNIST (1 epoch on 1,500 images per trial, wasm), seed ${seed}, ${trials} trials per run, ${rounds} round(s).`,
      '',
      '| round | workers | trials | wall s | trials/min | mean trial s |',
      '| --- | --- | --- | --- | --- | --- |',
      ...runs.map(row),
      '',
      `Median trials/min: ${one.trialsPerMinute.toFixed(2)} with 1 worker, ${two.trialsPerMinute.toFixed(2)} with 2 workers; ratio 2 workers / 1 worker per round ${roundRatios.map((r) => r.toFixed(2)).join(', ')}, **median ${ratio.toFixed(2)}** (same architectures in every run: ${sameArchs}). Load average at the end: ${result.environment.loadAverage1m} on ${result.environment.cpus} cores.`,
      '',
    ].join('\n'),
  )
}
