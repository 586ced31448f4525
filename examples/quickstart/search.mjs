// Random search over the NAS-Bench-201 cell space. Each architecture is scored by its
// 12-epoch CIFAR-10 validation accuracy from the NAS-Bench-201 table, and the best one is
// reported with its 200-epoch test accuracy, as the benchmark's protocol prescribes.
//
//   node examples/quickstart/search.mjs [--trials 100] [--seed 1]
//   NASKIT_NB201=/path/to/nb201.csv node examples/quickstart/search.mjs
import { existsSync, readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import {
  nb201FromString,
  nb201Space,
  nb201ToString,
  randomStrategy,
  simpleSearch,
} from '@naskit/core'

const { values } = parseArgs({
  options: { trials: { type: 'string', default: '100' }, seed: { type: 'string', default: '1' } },
})
const tablePath =
  process.env.NASKIT_NB201 ??
  resolve(import.meta.dirname, '../../../shared/data/nasbench201/nb201.csv')
if (!existsSync(tablePath)) {
  console.error(
    `The NAS-Bench-201 table was not found at ${tablePath}. Set NASKIT_NB201 to the path of nb201.csv.`,
  )
  process.exit(2)
}

const space = nb201Space()
const [header, ...rows] = readFileSync(tablePath, 'utf8').trim().split('\n')
const cols = header.split(',')
const at = (name) => cols.indexOf(name)
const table = new Map()
for (const row of rows) {
  const f = row.split(',')
  table.set(space.key(nb201FromString(f[at('arch')])), {
    valid: Number(f[at('cifar10_valid_12ep')]),
    test: Number(f[at('cifar10_test')]),
  })
}
const optimum = Math.max(...[...table.values()].map((r) => r.test))

const evaluator = {
  name: 'nb201-cifar10',
  evaluate(arch) {
    const row = table.get(space.key(arch))
    return { objective: row.valid, cifar10_test: row.test }
  },
}

const trials = Number(values.trials)
const seed = Number(values.seed)
const started = Date.now()
const result = await simpleSearch({
  space,
  strategy: randomStrategy,
  evaluator,
  trials,
  seed,
  onTrial(t) {
    if ((t.id + 1) % 20 === 0)
      console.log(`trial ${t.id + 1}/${trials}: valid ${t.objective?.toFixed(2)}%`)
  },
})
const best = result.best
console.log(
  `\nRandom search, ${result.trials.length} trials, seed ${seed}, ${Date.now() - started} ms`,
)
console.log(`best cell:      ${nb201ToString(best.arch)}`)
console.log(`valid (12 ep):  ${best.objective.toFixed(2)}%`)
console.log(
  `test (200 ep):  ${best.metrics.cifar10_test.toFixed(2)}%  (table optimum ${optimum.toFixed(2)}%)`,
)
