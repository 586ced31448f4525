/**
 * How the defaults of `evolution` and `local-search` were chosen: NAS-Bench-201 CIFAR-10 only,
 * 100 queries, on seeds kept apart from the reported ones (10000…). Prints one line per
 * setting, best first.
 *   pnpm --filter @naskit/benchmarks exec tsx --conditions=@naskit/source bench/tune-evolution.ts [seeds=1000]
 */
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { evolutionStrategy, localSearchStrategy } from '@naskit/strategy-evolution'
import { loadNb201Table, runNb201Suite, type SuiteEntry } from '../src/index'

const seedsCount = Number(process.argv[2] ?? 1000)
const seeds = Array.from({ length: seedsCount }, (_, i) => 10_000 + i)
const shared = fileURLToPath(
  new URL('../../../../shared/data/nasbench201/nb201.csv', import.meta.url),
)
const table = loadNb201Table(process.env.NASKIT_NB201 ?? (existsSync(shared) ? shared : undefined))

const entries: SuiteEntry[] = []
for (const [P, S] of [
  [10, 5],
  [20, 5],
  [10, 10],
  [20, 10],
  [20, 20],
  [30, 15],
  [30, 20],
  [30, 25],
  [30, 30],
  [40, 20],
  [40, 25],
  [40, 30],
  [50, 30],
  [50, 40],
]) {
  entries.push({
    label: `evolution P=${P} S=${S}`,
    plugin: evolutionStrategy,
    options: { populationSize: P, sampleSize: S },
  })
}
for (const improvement of ['first', 'best'] as const) {
  for (const [initialSamples, restartSamples] of [
    [1, 1],
    [10, 1],
    [10, 3],
    [20, 1],
    [20, 3],
    [20, 10],
    [30, 3],
  ]) {
    entries.push({
      label: `local-search ${improvement} init=${initialSamples} restart=${restartSamples}`,
      plugin: localSearchStrategy,
      options: { initialSamples, restartSamples, improvement },
    })
  }
}
const result = await runNb201Suite({
  table,
  dataset: 'cifar10',
  strategies: entries,
  seeds,
  queries: 100,
})
for (const s of [...result.summaries].sort((a, b) => b.mean - a.mean)) {
  console.log(
    `${s.strategy.padEnd(40)} ${s.mean.toFixed(3)} ± ${s.std.toFixed(3)}  (standard error ${(s.std / Math.sqrt(s.runs)).toFixed(3)})`,
  )
}
