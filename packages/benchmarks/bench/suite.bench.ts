/**
 * Speed of the NAS-Bench-201 benchmark (targets: the table loads in < 150 ms; a full
 * 100 seeds × 100 queries random-search suite takes < 2 s after start-up), then the reported
 * figures of every strategy on every dataset.
 *   pnpm --filter @naskit/benchmarks bench            (table from NASKIT_NB201 or ../shared)
 *   pnpm --filter @naskit/benchmarks bench -- --rl    (adds rl, on worker threads: minutes)
 */
import { existsSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'
import { randomStrategy } from '@naskit/core'
import {
  NB201_DATASETS,
  loadNb201Table,
  resolveStrategy,
  runNb201Suite,
  type SuiteEntry,
} from '../src/index'

const shared = fileURLToPath(
  new URL('../../../../shared/data/nasbench201/nb201.csv', import.meta.url),
)
const path = process.env.NASKIT_NB201 ?? (existsSync(shared) ? shared : undefined)
let failed = false
const cpuMs = () => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}
/** Judged on CPU time, so that other work on a busy machine does not count; wall time shown. */
const check = (label: string, cpu: number, wall: number, limitMs: number) => {
  const ok = cpu < limitMs
  failed ||= !ok
  console.log(
    `${label}: ${cpu.toFixed(0)} ms CPU, ${wall.toFixed(0)} ms wall (target < ${limitMs} ms) ${ok ? 'ok' : 'FAIL'}`,
  )
}

let c0 = cpuMs()
let w0 = performance.now()
const table = loadNb201Table(path, { cache: false })
check('load the NAS-Bench-201 table (cold)', cpuMs() - c0, performance.now() - w0, 150)
const loads: number[] = []
for (let i = 0; i < 5; i++) {
  const c = cpuMs()
  loadNb201Table(path, { cache: false })
  loads.push(cpuMs() - c)
}
console.log(`load the table (warm, best of 5): ${Math.min(...loads).toFixed(0)} ms CPU`)

c0 = cpuMs()
w0 = performance.now()
const random = await runNb201Suite({
  table,
  dataset: 'cifar10',
  strategies: [{ plugin: randomStrategy }],
  seeds: 100,
  queries: 100,
})
check(
  'random search suite, 100 seeds × 100 queries (first run)',
  cpuMs() - c0,
  performance.now() - w0,
  2000,
)
const s = random.summaries[0]
console.log(`  random on cifar10: ${s?.mean.toFixed(2)} ± ${s?.std.toFixed(2)}`)

// the figures of the strategies available here, with their defaults
const entries: SuiteEntry[] = []
const withRl = process.argv.includes('--rl')
for (const name of withRl
  ? ['random', 'evolution', 'local-search', 'rl']
  : ['random', 'evolution', 'local-search']) {
  try {
    entries.push({ label: name, spec: name, plugin: await resolveStrategy(name) })
  } catch (e) {
    console.log(`  (${name} left out: ${(e as Error).message.split('\n')[0]})`)
  }
}
for (const dataset of NB201_DATASETS) {
  const t = performance.now()
  const result = await runNb201Suite({
    table,
    dataset,
    strategies: entries,
    seeds: 100,
    queries: 100,
    workers: withRl ? availableParallelism() : 1,
  })
  const line = result.summaries
    .map((x) => `${x.strategy} ${x.mean.toFixed(2)} ± ${x.std.toFixed(2)}`)
    .join(' | ')
  console.log(
    `${dataset} (100 queries × 100 seeds, ${((performance.now() - t) / 1000).toFixed(1)} s): ${line} | optimum ${result.optimum.value.toFixed(2)}`,
  )
}
if (failed) process.exitCode = 1
