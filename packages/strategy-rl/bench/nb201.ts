/**
 * NAS-Bench-201 benchmark of the rl strategy (and random search for comparison).
 *
 * Protocol: each run is one seed with a budget of `--queries` unique architectures, asked
 * one at a time; the objective is `<dataset>_valid_12ep`; the run's result is the
 * `<dataset>_test` accuracy of the asked architecture with the best objective. Prints
 * mean ± std over `--seeds` seeds, and the mean ask + tell time per architecture.
 *
 *   pnpm bench -- --datasets cifar10,cifar100,imagenet16 --seeds 100 --queries 100
 *   NASKIT_NB201=/path/nb201.csv tsx bench/nb201.ts --options '{"controller":"independent"}'
 */
import '@tensorflow/tfjs-backend-cpu'
import '@tensorflow/tfjs-backend-wasm'
import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import {
  createStrategy,
  nb201FromString,
  nb201Space,
  randomStrategy,
  type SamplingStrategyPlugin,
  type TrialResult,
} from '@naskit/core'
import * as tf from '@tensorflow/tfjs-core'
import { rlStrategy } from '../src/index'

const { values: args } = parseArgs({
  options: {
    datasets: { type: 'string', default: 'cifar10,cifar100,imagenet16' },
    seeds: { type: 'string', default: '100' },
    'first-seed': { type: 'string', default: '0' },
    queries: { type: 'string', default: '100' },
    options: { type: 'string', default: '{}' },
    strategies: { type: 'string', default: 'rl,random' },
    backend: { type: 'string', default: 'cpu' },
    nb201: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
})

const here = dirname(fileURLToPath(import.meta.url))
const csvPath =
  args.nb201 ??
  process.env.NASKIT_NB201 ??
  resolve(here, '../../../../shared/data/nasbench201/nb201.csv')
const lines = readFileSync(csvPath, 'utf8').trim().split('\n')
const header = (lines[0] as string).split(',')
const rows = lines.slice(1).map((l) => l.split(','))
const space = nb201Space()

interface Entry {
  valid: number
  test: number
}

function table(dataset: string): Map<string, Entry> {
  const vi = header.indexOf(`${dataset}_valid_12ep`)
  const ti = header.indexOf(`${dataset}_test`)
  const ai = header.indexOf('arch')
  if (vi < 0 || ti < 0 || ai < 0)
    throw new Error(`${csvPath} has no columns for dataset "${dataset}"`)
  const out = new Map<string, Entry>()
  for (const r of rows)
    out.set(space.key(nb201FromString(r[ai] as string)), {
      valid: Number(r[vi]),
      test: Number(r[ti]),
    })
  return out
}

async function run(
  plugin: SamplingStrategyPlugin,
  options: unknown,
  data: Map<string, Entry>,
  seed: number,
  queries: number,
) {
  const strategy = createStrategy(plugin, { space, options, seed })
  let best: Entry | null = null
  let asked = 0
  let ms = 0
  let cpu = 0
  const cpuNow = () => {
    const u = process.cpuUsage()
    return (u.user + u.system) / 1000
  }
  while (asked < queries) {
    const t0 = performance.now()
    const c0 = cpuNow()
    const proposals = await strategy.ask(1)
    ms += performance.now() - t0
    cpu += cpuNow() - c0
    if (proposals.length === 0) break
    const results: TrialResult[] = proposals.map((p) => {
      const key = space.key(p.arch)
      const e = data.get(key) as Entry
      if (best === null || e.valid > best.valid) best = e
      return {
        id: asked++,
        arch: p.arch,
        key,
        status: 'ok',
        objective: e.valid,
        metrics: { objective: e.valid },
        ...(p.meta === undefined ? {} : { meta: p.meta }),
      }
    })
    const t1 = performance.now()
    const c1 = cpuNow()
    await strategy.tell(results)
    ms += performance.now() - t1
    cpu += cpuNow() - c1
  }
  return {
    test: (best as Entry | null)?.test ?? Number.NaN,
    msPerArch: ms / asked,
    cpuMsPerArch: cpu / asked,
  }
}

const stats = (xs: number[]) => {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length
  const std = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, xs.length - 1))
  return { mean, std }
}

await tf.setBackend(args.backend)
const seeds = Number(args.seeds)
const first = Number(args['first-seed'])
const queries = Number(args.queries)
const rlOptions = JSON.parse(args.options)
const report: Array<Record<string, unknown>> = []
for (const dataset of args.datasets.split(',')) {
  const data = table(dataset)
  for (const name of args.strategies.split(',')) {
    const plugin = (name === 'rl' ? rlStrategy : randomStrategy) as SamplingStrategyPlugin
    const tests: number[] = []
    const times: number[] = []
    const cpuTimes: number[] = []
    for (let s = first; s < first + seeds; s++) {
      const r = await run(plugin, name === 'rl' ? rlOptions : {}, data, s, queries)
      tests.push(r.test)
      times.push(r.msPerArch)
      cpuTimes.push(r.cpuMsPerArch)
    }
    const { mean, std } = stats(tests)
    const ms = stats(times).mean
    const cpuMs = stats(cpuTimes).mean
    const row = {
      dataset,
      strategy: name,
      seeds,
      queries,
      mean: +mean.toFixed(3),
      std: +std.toFixed(3),
      msPerArch: +ms.toFixed(3),
      cpuMsPerArch: +cpuMs.toFixed(3),
      backend: tf.getBackend(),
    }
    report.push(row)
    if (!args.json)
      console.log(
        `${dataset.padEnd(10)} ${name.padEnd(7)} test ${mean.toFixed(2)} ± ${std.toFixed(2)}  (${seeds} seeds × ${queries} queries; ask+tell ${ms.toFixed(2)} ms/arch wall, ${cpuMs.toFixed(2)} ms/arch cpu on ${tf.getBackend()}; target ≤ 5)`,
      )
  }
}
if (args.json) console.log(JSON.stringify({ options: rlOptions, results: report }, null, 2))
