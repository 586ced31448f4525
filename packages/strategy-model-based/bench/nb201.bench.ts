/**
 * naskit's strategies and Optuna's TPE side by side on the NAS-Bench-201 table: the same seeds,
 * the same protocol (a budget of unique queries, `<dataset>_valid_12ep` as the signal, the
 * `<dataset>_test` of the best architecture by that signal as the result), one table; and the
 * mean best-so-far curves of all of them over 1–200 queries in one SVG.
 *
 *   pnpm --filter @naskit/strategy-model-based bench [-- --seeds 0:99 --datasets cifar10,cifar100,imagenet16]
 *
 * TPE runs in Python (bench/tpe.py, Optuna's defaults). Python is `$NASKIT_PYTHON`, else
 * `python3`; make one with Optuna by
 *   python3 -m venv /tmp/optuna-venv && /tmp/optuna-venv/bin/pip install optuna
 * (add `--index-url <mirror>` where only a package mirror is reachable) and
 * `NASKIT_PYTHON=/tmp/optuna-venv/bin/python`. Without Python or Optuna the script says so and
 * prints naskit's rows alone.
 *
 * Each dataset's figures are kept in bench/results/nb201-<dataset>.json, so datasets can run
 * in separate processes (`--datasets cifar100`) and `--datasets none` prints the table of those
 * already measured. `--curve-seeds` sets the runs of the curve plot (200 queries each).
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { randomStrategy, type StrategyPlugin } from '@naskit/core'
import {
  DATASET_TITLES,
  type Nb201Dataset,
  parseSeeds,
  type RunRecord,
  runNb201Suite,
  type SuiteResult,
  suiteSvg,
  summarise,
} from '@naskit/benchmarks'
import { evolutionStrategy, localSearchStrategy } from '@naskit/strategy-evolution'
import { bananasStrategy, boStrategy } from '../src/index'
import { loadTable, tablePath } from './table'

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '0:99' },
    queries: { type: 'string', default: '100' },
    datasets: { type: 'string', default: 'cifar10,cifar100,imagenet16' },
    strategies: { type: 'string', default: 'random,evolution,local-search,bananas,bo' },
    'curve-seeds': { type: 'string', default: '0:29' },
    'curve-queries': { type: 'string', default: '200' },
    'curve-dataset': { type: 'string', default: 'cifar10' },
    'no-curves': { type: 'boolean', default: false },
    'no-tpe': { type: 'boolean', default: false },
    out: { type: 'string', default: fileURLToPath(new URL('./results/', import.meta.url)) },
  },
})

const PLUGINS: Record<string, StrategyPlugin> = {
  random: randomStrategy as StrategyPlugin,
  evolution: evolutionStrategy as StrategyPlugin,
  'local-search': localSearchStrategy as StrategyPlugin,
  bananas: bananasStrategy as StrategyPlugin,
  bo: boStrategy as StrategyPlugin,
}
const seeds = parseSeeds(values.seeds)
const queries = Number(values.queries)
const names = (values.strategies as string).split(',').filter((s) => s !== '')
for (const n of names)
  if (!PLUGINS[n])
    throw new Error(`unknown strategy ${n}; known: ${Object.keys(PLUGINS).join(', ')}`)
const datasets = (values.datasets as string)
  .split(',')
  .filter((d) => d !== '' && d !== 'none') as Nb201Dataset[]
const outDir = values.out as string
mkdirSync(outDir, { recursive: true })
const table = loadTable()
const path = tablePath() as string
const seedLabel = `${seeds[0]}–${seeds[seeds.length - 1]}`

interface Row {
  strategy: string
  mean: number
  std: number
  runs: number
  /** Mean time per proposal, ms (the whole run divided by its queries). */
  msPerQuery: number
}
interface DatasetFigures {
  dataset: Nb201Dataset
  seeds: number[]
  queries: number
  rows: Row[]
  tpe: Row | { missing: string }
}

/** Optuna's TPE through bench/tpe.py: one run per seed, or why it cannot run. */
function runTpe(
  dataset: Nb201Dataset,
  runSeeds: number[],
  budget: number,
): { runs: RunRecord[]; msPerProposal: number; version: string } | { missing: string } {
  if (values['no-tpe']) return { missing: 'left out (--no-tpe)' }
  const python = process.env.NASKIT_PYTHON ?? 'python3'
  const probe = spawnSync(python, ['-c', 'import optuna; print(optuna.__version__)'], {
    encoding: 'utf8',
  })
  if (probe.error) return { missing: `Python (${python}) is not available: ${probe.error.message}` }
  if (probe.status !== 0)
    return {
      missing: `Optuna is not installed for ${python} (pip install optuna, or set NASKIT_PYTHON to a Python that has it)`,
    }
  const script = fileURLToPath(new URL('./tpe.py', import.meta.url))
  const lo = runSeeds[0] as number
  const hi = runSeeds[runSeeds.length - 1] as number
  const res = spawnSync(
    python,
    [
      script,
      '--table',
      path,
      '--dataset',
      dataset,
      '--seeds',
      `${lo}:${hi}`,
      '--queries',
      String(budget),
    ],
    { encoding: 'utf8', maxBuffer: 1 << 30 },
  )
  if (res.status !== 0) return { missing: `bench/tpe.py failed: ${res.stderr.slice(-500)}` }
  const runs: RunRecord[] = []
  let ms = 0
  let version = '?'
  for (const line of res.stdout.split('\n')) {
    if (line.trim() === '') continue
    const r = JSON.parse(line)
    if (r.optuna) {
      version = r.optuna
      continue
    }
    ms += r.msPerProposal
    runs.push({
      strategy: `Optuna TPE`,
      seed: r.seed,
      queries: r.queries,
      result: r.result,
      bestValid: r.bestValid,
      bestArch: '',
      bestIndex: -1,
      curve: r.curve,
      repeats: r.proposals - r.queries,
      invalid: 0,
      durationMs: r.durationMs,
    })
  }
  return { runs, msPerProposal: ms / Math.max(1, runs.length), version }
}

const rowOf = (label: string, runs: RunRecord[], optimum: number, budget: number): Row => {
  const s = summarise(label, runs, optimum, budget)
  const msPerQuery =
    runs.reduce((acc, r) => acc + r.durationMs / Math.max(1, r.queries), 0) / runs.length
  return { strategy: label, mean: s.mean, std: s.std, runs: runs.length, msPerQuery }
}

for (const dataset of datasets) {
  const t0 = performance.now()
  const result = await runNb201Suite({
    table,
    dataset,
    strategies: names.map((n) => ({ label: n, plugin: PLUGINS[n] as StrategyPlugin })),
    seeds,
    queries,
    concurrency: 1,
  })
  const optimum = result.optimum.value
  const rows = result.summaries.map((s) =>
    rowOf(
      s.strategy,
      result.runs.filter((r) => r.strategy === s.strategy),
      optimum,
      queries,
    ),
  )
  const tpe = runTpe(dataset, seeds, queries)
  const figures: DatasetFigures = {
    dataset,
    seeds,
    queries,
    rows,
    tpe:
      'missing' in tpe
        ? tpe
        : {
            ...rowOf(`Optuna TPE (${tpe.version} defaults)`, tpe.runs, optimum, queries),
            msPerQuery: tpe.msPerProposal,
          },
  }
  writeFileSync(join(outDir, `nb201-${dataset}.json`), `${JSON.stringify(figures, null, 2)}\n`)
  console.error(`${dataset}: ${((performance.now() - t0) / 1000).toFixed(0)} s`)
}

// the table: every dataset measured with these seeds and this budget
const figures: DatasetFigures[] = []
for (const d of ['cifar10', 'cifar100', 'imagenet16'] as const) {
  const file = join(outDir, `nb201-${d}.json`)
  if (!existsSync(file)) continue
  const f = JSON.parse(readFileSync(file, 'utf8')) as DatasetFigures
  if (f.queries === queries && f.seeds.join(',') === seeds.join(',')) figures.push(f)
}
if (figures.length > 0) {
  const labels: string[] = []
  for (const f of figures)
    for (const r of [...f.rows, ...('missing' in f.tpe ? [] : [f.tpe])])
      if (!labels.includes(r.strategy)) labels.push(r.strategy)
  const cell = (f: DatasetFigures, label: string) => {
    const r = [...f.rows, ...('missing' in f.tpe ? [] : [f.tpe])].find((x) => x.strategy === label)
    return r ? `${r.mean.toFixed(2)} ± ${r.std.toFixed(2)}` : '—'
  }
  const overhead = (label: string) => {
    const all = figures
      .flatMap((f) => [...f.rows, ...('missing' in f.tpe ? [] : [f.tpe])])
      .filter((x) => x.strategy === label)
    const ms = all.reduce((s, x) => s + x.msPerQuery, 0) / Math.max(1, all.length)
    return ms < 0.1 ? `${ms.toFixed(3)} ms` : `${ms.toFixed(1)} ms`
  }
  console.log(
    `NAS-Bench-201, ${queries} unique queries, seeds ${seedLabel}: 200-epoch test accuracy of the best architecture by 12-epoch validation accuracy, mean ± std over seeds.`,
  )
  console.log('')
  console.log(
    `| strategy | ${figures.map((f) => DATASET_TITLES[f.dataset]).join(' | ')} | time per query |`,
  )
  console.log(`| --- | ${figures.map(() => '---:').join(' | ')} | ---: |`)
  for (const label of labels)
    console.log(
      `| ${label} | ${figures.map((f) => cell(f, label)).join(' | ')} | ${overhead(label)} |`,
    )
  for (const f of figures)
    if ('missing' in f.tpe)
      console.log(`\nOptuna TPE on ${f.dataset}: ${f.tpe.missing}; naskit's rows only.`)
}

if (!values['no-curves']) {
  const curveSeeds = parseSeeds(values['curve-seeds'])
  const curveQueries = Number(values['curve-queries'])
  const dataset = values['curve-dataset'] as Nb201Dataset
  const result = await runNb201Suite({
    table,
    dataset,
    strategies: names.map((n) => ({ label: n, plugin: PLUGINS[n] as StrategyPlugin })),
    seeds: curveSeeds,
    queries: curveQueries,
    concurrency: 1,
  })
  const tpe = runTpe(dataset, curveSeeds, curveQueries)
  const withTpe: SuiteResult =
    'missing' in tpe
      ? result
      : {
          ...result,
          summaries: [
            ...result.summaries,
            summarise('Optuna TPE', tpe.runs, result.optimum.value, curveQueries),
          ],
        }
  if ('missing' in tpe) console.log(`\nCurves without Optuna TPE: ${tpe.missing}.`)
  const file = join(outDir, `nb201-${dataset}-curves.svg`)
  writeFileSync(file, suiteSvg(withTpe))
  console.log(
    `\nBest-so-far curves over 1–${curveQueries} queries (${dataset}, seeds ${curveSeeds[0]}–${curveSeeds[curveSeeds.length - 1]}): ${file}`,
  )
  const marks = [25, 50, 100, 150, 200].filter((q) => q < curveQueries).concat(curveQueries)
  for (const s of withTpe.summaries)
    console.log(
      `  ${s.strategy}: ${marks.map((q) => `@${q} ${s.curve[q - 1]?.toFixed(2)}`).join(' ')}`,
    )
}
