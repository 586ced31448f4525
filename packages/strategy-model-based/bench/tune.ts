/**
 * How the defaults were chosen: runs a strategy of this package with given options on
 * NAS-Bench-201 over tuning seeds (10000 and up, kept apart from the reported 0–99), 100
 * queries, and prints the mean result.
 *   pnpm --filter @naskit/strategy-model-based exec tsx --conditions=@naskit/source bench/tune.ts --strategy bo --seeds 10000:10049 [--dataset cifar10] [--options '{"parents":5}']
 */
import { parseArgs } from 'node:util'
import type { StrategyPlugin } from '@naskit/core'
import { type Nb201Dataset, runNb201Suite } from '@naskit/benchmarks'
import { bananasStrategy, boStrategy } from '../src/index'
import { loadTable } from './table'

const { values } = parseArgs({
  options: {
    strategy: { type: 'string', default: 'bo' },
    options: { type: 'string', default: '{}' },
    seeds: { type: 'string', default: '10000:10049' },
    dataset: { type: 'string', default: 'cifar10' },
    queries: { type: 'string', default: '100' },
    label: { type: 'string' },
  },
})
const [from, to] = (values.seeds as string).split(':').map(Number) as [number, number]
const seeds = Array.from({ length: to - from + 1 }, (_, i) => from + i)
const plugin = (values.strategy === 'bananas' ? bananasStrategy : boStrategy) as StrategyPlugin
const options = JSON.parse(values.options as string)
const t0 = performance.now()
const result = await runNb201Suite({
  table: loadTable(),
  dataset: values.dataset as Nb201Dataset,
  strategies: [{ plugin, options, label: values.label ?? `${values.strategy} ${values.options}` }],
  seeds,
  queries: Number(values.queries),
  concurrency: 1,
})
const s = result.summaries[0]!
const hits = result.runs.filter(
  (r) => r.bestValid >= result.runs.reduce((m, x) => Math.max(m, x.bestValid), 0) - 1e-9,
).length
if (process.env.RUNS)
  for (const r of result.runs)
    console.log(r.seed, r.bestValid.toFixed(3), r.result.toFixed(3), r.bestArch)
console.log(
  `${values.dataset} ${s.strategy} seeds ${from}:${to}: ${s.mean.toFixed(3)} ± ${s.std.toFixed(3)} (se ${(s.std / Math.sqrt(s.runs)).toFixed(3)}) @50 ${s.curve[49]?.toFixed(3)} top-valid hits ${hits}/${s.runs}; ${((performance.now() - t0) / s.runs).toFixed(0)} ms/run`,
)
