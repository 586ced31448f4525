/**
 * Multi-fidelity search on NAS-Bench-201 (CIFAR-10) at an equal budget of training epochs.
 *
 *   pnpm --filter @naskit/strategy-multi-fidelity bench
 *   pnpm --filter @naskit/strategy-multi-fidelity bench -- --seeds 50 --epochs 480,1200 --workers 4 --models 4:0,8:1
 *
 * The table (NASKIT_NB201, or the shared copy) holds two training schedules only: 12 epochs
 * (`cifar10_valid_12ep`) and 200 epochs (`cifar10_test`), and no per-epoch learning curves. So it
 * cannot measure multi-fidelity search by itself. Full fidelity here is the table's 12-epoch
 * validation accuracy (exact), and the lower fidelities (1 and 4 epochs) come from a SYNTHETIC
 * FIDELITY MODEL built on it:
 *
 *   acc(e) = valid_12ep − G·d(e)·(1 + b·(params_m / 1.53 − 0.5)) + σ·d(e)·z,
 *   d(e) = ln(12/e) / ln 12
 *
 * with G = 15 points (a network is about 15 points behind its 12-epoch accuracy after one
 * epoch) and z a standard normal drawn per (seed, architecture, epochs). d(12) = 0, so full
 * fidelity is the table value itself. Two models by default (--models σ:b,…): "4:0", noise of
 * σ = 4 points at one epoch and no size bias; and "8:1", twice the noise and a size bias b = 1
 * (the biggest networks are 7.5 points further behind at one epoch, the smallest 7.5 points
 * less), under which low fidelities favour small networks. The bench prints the rank
 * correlation of acc(1) and acc(4) with acc(12), so that each model can be judged.
 *
 * Every strategy gets the same budget of training epochs (by default 480 and 1,200: 40 and 100
 * trials at 12 epochs; 100 is the usual NAS-Bench-201 query budget), spent on `workers` simulated workers; a promoted trial
 * continues the one it was promoted from (`continueFrom`) and costs only the extra epochs.
 * Reported: CIFAR-10 200-epoch test accuracy of the trial with the best 12-epoch validation
 * accuracy (among the trials that trained 12 epochs), mean ± std over the seeds; that
 * validation accuracy (the search signal); the candidates tried; and worker utilisation (busy
 * time / (workers × makespan)).
 */
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import {
  createStrategy,
  hashString,
  nb201Space,
  Rng,
  randomStrategy,
  type SamplingStrategyPlugin,
  type TrialResult,
} from '@naskit/core'
import { loadNb201Table } from '@naskit/benchmarks'
import { loadSamplingStrategy } from '@naskit/core/node'
import { ashaStrategy, hyperbandStrategy, successiveHalvingStrategy } from '../src/index'

const { values: args } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--'),
  options: {
    seeds: { type: 'string', default: '50' },
    epochs: { type: 'string', default: '480,1200' },
    workers: { type: 'string', default: '4' },
    models: { type: 'string', default: '4:0,8:1' },
    json: { type: 'boolean', default: false },
  },
})
const SEEDS = Number(args.seeds)
const BUDGETS = String(args.epochs).split(',').map(Number)
let BUDGET = BUDGETS[0] as number
const WORKERS = Number(args.workers)
const FULL = 12
const G = 15
/** Fidelity models as `σ:bias` pairs. */
const MODELS = String(args.models)
  .split(',')
  .map((m) => m.split(':').map(Number) as [number, number])
let SIGMA = 4
let BIAS = 0

const shared = fileURLToPath(
  new URL('../../../../shared/data/nasbench201/nb201.csv', import.meta.url),
)
const table = loadNb201Table(process.env.NASKIT_NB201 ?? (existsSync(shared) ? shared : undefined))
const space = nb201Space()
const valid = table.column('cifar10_valid_12ep')
const test = table.column('cifar10_test')
const params = table.column('params_m')

function gaussian(seed: number, row: number, e: number): number {
  const r = new Rng(hashString(`${seed}:${row}:${e}`))
  return r.normal()
}

/** The synthetic fidelity model (exact table value at 12 epochs). */
function accuracy(seed: number, row: number, e: number): number {
  const d = Math.log(FULL / e) / Math.log(FULL)
  const slow = 1 + BIAS * ((params[row] as number) / 1.53 - 0.5)
  return (valid[row] as number) - G * d * slow + SIGMA * d * gaussian(seed, row, e)
}

function spearman(a: number[], b: number[]): number {
  const rank = (x: number[]) => {
    const order = x.map((v, i) => [v, i] as const).sort((p, q) => p[0] - q[0])
    const r = new Array<number>(x.length)
    order.forEach(([, i], k) => {
      r[i] = k
    })
    return r
  }
  const ra = rank(a)
  const rb = rank(b)
  const n = a.length
  let d2 = 0
  for (let i = 0; i < n; i++) d2 += ((ra[i] as number) - (rb[i] as number)) ** 2
  return 1 - (6 * d2) / (n * (n * n - 1))
}

interface Method {
  label: string
  plugin: SamplingStrategyPlugin
  options: Record<string, unknown>
}

const evolution = (
  await loadSamplingStrategy('evolution', process.cwd(), {
    extraDirs: [fileURLToPath(new URL('.', import.meta.url))],
  })
).plugin as SamplingStrategyPlugin
const ladder = { minResource: 1, maxResource: FULL, eta: 3 }
const methods: Method[] = [
  { label: 'random, 12 epochs', plugin: randomStrategy as never, options: {} },
  { label: 'evolution, 12 epochs', plugin: evolution, options: {} },
  {
    label: 'successive halving + random',
    plugin: successiveHalvingStrategy as never,
    options: { ...ladder, rounds: 0 },
  },
  {
    label: 'successive halving + evolution',
    plugin: successiveHalvingStrategy as never,
    options: { ...ladder, rounds: 0, sampler: 'evolution' },
  },
  {
    label: 'successive halving + evolution, first feedback',
    plugin: successiveHalvingStrategy as never,
    options: { ...ladder, rounds: 0, sampler: 'evolution', feedback: 'first' },
  },
  {
    label: 'successive halving + random, one bracket at a time',
    plugin: successiveHalvingStrategy as never,
    options: { ...ladder, rounds: 0, parallelBrackets: false },
  },
  {
    label: 'hyperband + random',
    plugin: hyperbandStrategy as never,
    options: { ...ladder, iterations: 0 },
  },
  {
    label: 'hyperband + evolution',
    plugin: hyperbandStrategy as never,
    options: { ...ladder, iterations: 0, sampler: 'evolution' },
  },
  {
    label: 'hyperband + evolution, first feedback',
    plugin: hyperbandStrategy as never,
    options: { ...ladder, iterations: 0, sampler: 'evolution', feedback: 'first' },
  },
  {
    label: 'asha + random',
    plugin: ashaStrategy as never,
    options: { gracePeriod: 1, maxResource: FULL, eta: 3 },
  },
  {
    label: 'asha + evolution',
    plugin: ashaStrategy as never,
    options: { gracePeriod: 1, maxResource: FULL, eta: 3, sampler: 'evolution' },
  },
]

interface Run {
  test: number
  valid: number
  candidates: number
  trials: number
  epochs: number
  utilisation: number
}

/** An event-driven host: `WORKERS` workers, a trial takes as long as the epochs it trains. */
async function runOnce(m: Method, seed: number): Promise<Run> {
  const strategy = createStrategy(m.plugin, { space, options: m.options, seed })
  const epochsOf = new Map<number, number>()
  const running: Array<{ id: number; end: number; result: TrialResult }> = []
  const keys = new Set<string>()
  let now = 0
  let spent = 0
  let busy = 0
  let nextId = 0
  let trials = 0
  let best: { valid: number; row: number } | null = null
  for (;;) {
    const free = WORKERS - running.length
    if (free > 0 && spent < BUDGET && !strategy.status?.().done) {
      const proposals = await strategy.ask(free)
      for (const p of proposals) {
        if (spent >= BUDGET) break
        const arch = space.validate(p.arch)
        const key = space.key(arch)
        const row = table.rowOfKey(key)
        const e = p.fidelity?.epochs ?? FULL
        const before = p.continueFrom === undefined ? 0 : (epochsOf.get(p.continueFrom) ?? 0)
        const cost = Math.max(0, e - before)
        const id = nextId++
        epochsOf.set(id, e)
        spent += cost
        busy += cost
        trials++
        keys.add(key)
        const objective = accuracy(seed, row, e)
        if (e === FULL && (best === null || objective > best.valid))
          best = { valid: objective, row }
        running.push({
          id,
          end: now + cost,
          result: {
            id,
            arch,
            key,
            status: 'ok',
            objective,
            metrics: { objective },
            ...(p.meta === undefined ? {} : { meta: p.meta }),
            ...(p.fidelity ? { fidelity: p.fidelity } : {}),
          },
        })
      }
    }
    if (running.length === 0) break
    running.sort((a, b) => a.end - b.end || a.id - b.id)
    const next = running.shift() as (typeof running)[number]
    now = next.end
    await strategy.tell([next.result])
  }
  await strategy.dispose?.()
  const row = (best as { row: number } | null)?.row ?? 0
  return {
    test: test[row] as number,
    valid: valid[row] as number,
    candidates: keys.size,
    trials,
    epochs: spent,
    utilisation: now > 0 ? busy / (WORKERS * now) : 1,
  }
}

const mean = (x: number[]) => x.reduce((s, v) => s + v, 0) / x.length
const std = (x: number[]) => {
  const m = mean(x)
  return Math.sqrt(x.reduce((s, v) => s + (v - m) ** 2, 0) / Math.max(1, x.length - 1))
}

const rows: Array<Record<string, unknown>> = []
const started = performance.now()
console.log(
  `NAS-Bench-201 CIFAR-10, ${WORKERS} workers, ${SEEDS} seeds; optimum of the table: ${table.best('cifar10_test').value.toFixed(2)} (test); the best by valid_12ep: ${(test[table.best('cifar10_valid_12ep').row] as number).toFixed(2)}`,
)
for (const [budget, [sigma, bias]] of BUDGETS.flatMap((b) => MODELS.map((m) => [b, m] as const))) {
  BUDGET = budget
  SIGMA = sigma
  BIAS = bias
  const sample = Array.from({ length: 2000 }, (_, i) => (i * 7919) % table.size)
  const full = sample.map((row) => accuracy(0, row, FULL))
  const rho = (e: number) =>
    spearman(
      sample.map((row) => accuracy(0, row, e)),
      full,
    ).toFixed(2)
  console.log(
    `\nBudget ${BUDGET} epochs; SYNTHETIC fidelity model below 12 epochs: G = ${G}, σ = ${SIGMA}, size bias ${BIAS} (Spearman with 12 epochs: ${rho(1)} at 1 epoch, ${rho(4)} at 4 epochs)\n`,
  )
  console.log(
    '| strategy | test accuracy | valid_12ep | candidates | trials | epochs | utilisation |',
  )
  console.log('| --- | --- | --- | --- | --- | --- | --- |')
  for (const m of methods) {
    const runs: Run[] = []
    for (let seed = 0; seed < SEEDS; seed++) runs.push(await runOnce(m, seed))
    const t = runs.map((r) => r.test)
    const row = {
      budget,
      sigma,
      bias,
      strategy: m.label,
      test: mean(t),
      std: std(t),
      valid: mean(runs.map((r) => r.valid)),
      candidates: mean(runs.map((r) => r.candidates)),
      trials: mean(runs.map((r) => r.trials)),
      epochs: mean(runs.map((r) => r.epochs)),
      utilisation: mean(runs.map((r) => r.utilisation)),
    }
    rows.push(row)
    console.log(
      `| ${m.label} | ${row.test.toFixed(2)} ± ${row.std.toFixed(2)} | ${row.valid.toFixed(2)} | ${row.candidates.toFixed(0)} | ${row.trials.toFixed(0)} | ${row.epochs.toFixed(0)} | ${(100 * row.utilisation).toFixed(0)}% |`,
    )
  }
}
console.log(`\n${((performance.now() - started) / 1000).toFixed(1)} s`)
if (args.json) console.log(JSON.stringify(rows))
