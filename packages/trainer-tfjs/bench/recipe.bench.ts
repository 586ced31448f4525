/**
 * Training recipes for short budgets: the reference CNN trained for one epoch on 10,000 MNIST
 * images (from the 55,000 left after a 5,000-image validation split), on wasm, for each recipe
 * and seed. Recipes are chosen on the validation accuracy; the official 10,000 test images are
 * reported beside it and used for no choice. Every run is kept in
 * bench/results/recipe-runs.jsonl; bench/results/recipe.{json,md} summarise all of them.
 * Run: npx tsx --conditions=@naskit/source bench/recipe.bench.ts [recipes] [seeds] [trainSize]
 *   recipes: comma-separated names (default all), seeds: e.g. 1,2,3 (default 1,2,3)
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { selectBackend } from '../src/backend.js'
import { loadMnist, splitDataset } from '../src/data/index.js'
import { buildNetwork } from '../src/models/index.js'
import { evaluateAccuracy, type TrainOptions, trainNetwork } from '../src/train/index.js'
import { REFERENCE_CNN } from './reference.js'
import { environment, median, writeResults } from './results.js'

type Recipe = Omit<TrainOptions, 'epochs' | 'onProgress' | 'seed'>

/** The candidates; `defaults` is what the trainer does with no options. */
export const RECIPES: Record<string, Recipe> = {
  defaults: { batchSize: 64 },
  'momentum-0.1': { batchSize: 64, optimizer: 'momentum', learningRate: 0.1 },
  'momentum-0.1-warmup': {
    batchSize: 64,
    optimizer: 'momentum',
    learningRate: 0.1,
    warmupFraction: 0.1,
  },
  'momentum-0.2-warmup': {
    batchSize: 64,
    optimizer: 'momentum',
    learningRate: 0.2,
    warmupFraction: 0.1,
  },
  'momentum-0.05-b32': { batchSize: 32, optimizer: 'momentum', learningRate: 0.05 },
  'momentum-0.1-noclip-warmup': {
    batchSize: 64,
    optimizer: 'momentum',
    learningRate: 0.1,
    warmupFraction: 0.1,
    gradClipNorm: 0,
  },
  'momentum-0.1-b32-warmup': {
    batchSize: 32,
    optimizer: 'momentum',
    learningRate: 0.1,
    warmupFraction: 0.1,
  },
  'momentum-0.1-b16-warmup': {
    batchSize: 16,
    optimizer: 'momentum',
    learningRate: 0.05,
    warmupFraction: 0.1,
  },
  'momentum-0.1-b16-lr0.1-warmup': {
    batchSize: 16,
    optimizer: 'momentum',
    learningRate: 0.1,
    warmupFraction: 0.1,
  },
  'momentum-0.2-b16-warmup': {
    batchSize: 16,
    optimizer: 'momentum',
    learningRate: 0.2,
    warmupFraction: 0.1,
  },
  'momentum-0.05-b8-warmup': {
    batchSize: 8,
    optimizer: 'momentum',
    learningRate: 0.05,
    warmupFraction: 0.1,
  },
  'momentum-0.2-b32-warmup': {
    batchSize: 32,
    optimizer: 'momentum',
    learningRate: 0.2,
    warmupFraction: 0.1,
  },
  'momentum-0.4-warmup': {
    batchSize: 64,
    optimizer: 'momentum',
    learningRate: 0.4,
    warmupFraction: 0.1,
  },
  'momentum-0.8-warmup': {
    batchSize: 64,
    optimizer: 'momentum',
    learningRate: 0.8,
    warmupFraction: 0.1,
  },
  'momentum-0.4-b32-warmup': {
    batchSize: 32,
    optimizer: 'momentum',
    learningRate: 0.4,
    warmupFraction: 0.1,
  },
  'momentum-0.1-b16-nowd-warmup': {
    batchSize: 16,
    optimizer: 'momentum',
    learningRate: 0.1,
    warmupFraction: 0.1,
    weightDecay: 0,
  },
  'momentum-0.1-b16-floor-warmup': {
    batchSize: 16,
    optimizer: 'momentum',
    learningRate: 0.1,
    minLearningRate: 0.01,
    warmupFraction: 0.1,
  },
  'adam-2e-3-b16-warmup': {
    batchSize: 16,
    optimizer: 'adam',
    learningRate: 2e-3,
    warmupFraction: 0.1,
    weightDecay: 0,
  },
  'adam-1e-3': { batchSize: 64, optimizer: 'adam', learningRate: 1e-3, weightDecay: 0 },
  'adam-3e-3-warmup': {
    batchSize: 64,
    optimizer: 'adam',
    learningRate: 3e-3,
    warmupFraction: 0.1,
    weightDecay: 0,
  },
  'adam-5e-3-warmup': {
    batchSize: 64,
    optimizer: 'adam',
    learningRate: 5e-3,
    warmupFraction: 0.1,
    weightDecay: 0,
  },
}

const names = process.argv[2] ? process.argv[2].split(',') : Object.keys(RECIPES)
const seeds = (process.argv[3] ?? '1,2,3').split(',').map(Number)
const trainSize = Number(process.argv[4] ?? 10_000)
for (const n of names) if (!RECIPES[n]) throw new Error(`unknown recipe ${n}`)

const resultsDir = path.join(path.dirname(new URL(import.meta.url).pathname), 'results')
const runsFile = path.join(resultsDir, 'recipe-runs.jsonl')
mkdirSync(resultsDir, { recursive: true })

await selectBackend({ backend: 'wasm', log: false })
const ds = loadMnist()

// seeds outer, recipes inner: each recipe sees the same machine load on average
for (const seed of seeds) {
  const splits = splitDataset(ds, { validationSize: 5000, trainSize, seed })
  for (const name of names) {
    const recipe = RECIPES[name]!
    const net = buildNetwork(REFERENCE_CNN, {
      inputShape: [28, 28, 1],
      seed,
      nasnet: { downsample: 1 },
    })
    const r = await trainNetwork(net, splits.train, { ...recipe, epochs: 1, seed })
    const run = {
      recipe: name,
      options: recipe,
      seed,
      trainImages: splits.train.indices.length,
      valAccuracy: evaluateAccuracy(net, splits.validation),
      testAccuracy: evaluateAccuracy(net, splits.test),
      finalLoss: r.finalLoss,
      imagesPerSecond: r.imagesPerSecond,
      environment: environment(),
    }
    net.dispose()
    appendFileSync(runsFile, `${JSON.stringify(run)}\n`)
    console.log(
      `${name} seed ${seed}: val ${(100 * run.valAccuracy).toFixed(2)}% test ${(100 * run.testAccuracy).toFixed(2)}% (${run.imagesPerSecond.toFixed(0)} img/s)`,
    )
  }
}

// the summary covers every run on record, not only this invocation's
const runs = existsSync(runsFile)
  ? readFileSync(runsFile, 'utf8')
      .trim()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as {
            recipe: string
            seed: number
            valAccuracy: number
            testAccuracy: number
            trainImages: number
          },
      )
  : []
const byRecipe = new Map<string, typeof runs>()
for (const r of runs) byRecipe.set(r.recipe, [...(byRecipe.get(r.recipe) ?? []), r])
const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length
const pct = (v: number) => `${(100 * v).toFixed(2)}%`
const rows = [...byRecipe].map(([recipe, rs]) => ({
  recipe,
  options: RECIPES[recipe],
  seeds: rs.map((r) => r.seed),
  meanVal: mean(rs.map((r) => r.valAccuracy)),
  meanTest: mean(rs.map((r) => r.testAccuracy)),
  minTest: Math.min(...rs.map((r) => r.testAccuracy)),
  medianTest: median(rs.map((r) => r.testAccuracy)),
}))
rows.sort((a, b) => b.meanVal - a.meanVal)
writeResults(
  'recipe',
  { benchmark: 'one-epoch recipes, reference CNN, MNIST', rows, runs },
  [
    '# Recipes for short budgets: reference CNN, one epoch, 10,000 MNIST images, wasm',
    '',
    'Command: `npx tsx --conditions=@naskit/source bench/recipe.bench.ts [recipes] [seeds]`. Sorted by mean validation accuracy (5,000 held-out training images), the only figure a choice looks at; test = the official 10,000 MNIST test images. Every run on record is included.',
    '',
    '| recipe | options | seeds | mean val | mean test | min test |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      (r) =>
        `| ${r.recipe} | \`${JSON.stringify(r.options)}\` | ${r.seeds.join(', ')} | ${pct(r.meanVal)} | ${pct(r.meanTest)} | ${pct(r.minTest)} |`,
    ),
  ].join('\n'),
)
