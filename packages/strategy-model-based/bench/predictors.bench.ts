/**
 * Kendall tau of each predictor on held-out NAS-Bench-201 architectures after 20, 50 and 100
 * training points (the 12-epoch validation accuracy, the search signal), and the time of a fit.
 * For each of `--repeats` seeds: a random training set and 1,000 other random architectures.
 *   pnpm --filter @naskit/strategy-model-based exec tsx --conditions=@naskit/source bench/predictors.bench.ts [--dataset cifar10] [--repeats 10]
 */
import { parseArgs } from 'node:util'
import { type Arch, Rng } from '@naskit/core'
import type { Nb201Dataset } from '@naskit/benchmarks'
import {
  type ArchPredictor,
  createEnsemblePredictor,
  createGpPredictor,
  kendallTau,
} from '../src/index'
import { loadTable } from './table'

const { values } = parseArgs({
  options: {
    dataset: { type: 'string', default: 'cifar10' },
    repeats: { type: 'string', default: '10' },
    test: { type: 'string', default: '1000' },
  },
})
const dataset = values.dataset as Nb201Dataset
const repeats = Number(values.repeats)
const held = Number(values.test)
const table = loadTable()
const space = table.space
const valid = table.column(`${dataset}_valid_12ep`)

const predictors: Array<[string, (seed: number) => ArchPredictor]> = [
  ['ensemble (path)', (seed) => createEnsemblePredictor(space, { seed, encoding: 'path' })],
  ['ensemble (one-hot)', (seed) => createEnsemblePredictor(space, { seed, encoding: 'onehot' })],
  ['gp (path)', () => createGpPredictor(space, { encoding: 'path' })],
  ['gp (one-hot)', () => createGpPredictor(space, { encoding: 'onehot' })],
]
const sizes = [20, 50, 100]
const mean = (xs: number[]) => xs.reduce((s, v) => s + v, 0) / xs.length
const std = (xs: number[]) => {
  const m = mean(xs)
  return Math.sqrt(xs.reduce((s, v) => s + (v - m) ** 2, 0) / Math.max(1, xs.length - 1))
}

console.log(
  `NAS-Bench-201 ${dataset}, ${dataset}_valid_12ep; Kendall tau on ${held} held-out architectures, mean ± std over ${repeats} draws`,
)
console.log('')
console.log(`| predictor | ${sizes.map((n) => `tau @${n}`).join(' | ')} | fit @100 (ms) |`)
console.log(`| --- | ${sizes.map(() => '---:').join(' | ')} | ---: |`)
for (const [label, make] of predictors) {
  const taus = sizes.map(() => [] as number[])
  const fitMs: number[] = []
  for (let r = 0; r < repeats; r++) {
    const rng = new Rng(`predictor-bench:${r}`)
    const rows = rng.sampleIndices(table.size, 100 + held)
    const train = rows.slice(0, 100)
    const test = rows.slice(100)
    const testArchs: Arch[] = test.map((row) => table.arch(row))
    const truth = test.map((row) => valid[row] as number)
    sizes.forEach((n, i) => {
      const p = make(r)
      const obs = train.slice(0, n).map((row) => ({
        arch: table.arch(row),
        objective: valid[row] as number,
      }))
      const t0 = performance.now()
      p.fit(obs)
      if (n === 100) fitMs.push(performance.now() - t0)
      const pred = p.predict(testArchs).map((x) => x.mean)
      ;(taus[i] as number[]).push(kendallTau(pred, truth))
    })
  }
  console.log(
    `| ${label} | ${taus.map((t) => `${mean(t).toFixed(3)} ± ${std(t).toFixed(3)}`).join(' | ')} | ${mean(fitMs).toFixed(1)} |`,
  )
}
