/**
 * Overhead of one ask + tell once 100 trials are in (target ≤ 50 ms), on NAS-Bench-201 with the
 * table's CIFAR-10 signal: 100 trials are run, then the next 10 ask(1) + tell are timed; the
 * median over 5 seeds × 10 steps, in CPU time (wall time shown). Also a batch of 8 asks.
 *   pnpm --filter @naskit/strategy-model-based exec tsx --conditions=@naskit/source bench/overhead.bench.ts
 */
import {
  createStrategy,
  type SamplingStrategy,
  type SamplingStrategyPlugin,
  type TrialResult,
} from '@naskit/core'
import { evolutionStrategy } from '@naskit/strategy-evolution'
import { bananasStrategy, boStrategy } from '../src/index'
import { loadTable } from './table'

const TARGET_MS = 50
const table = loadTable()
const space = table.space
const valid = table.column('cifar10_valid_12ep')
const cpuMs = () => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] as number

function results(s: SamplingStrategy, n: number, id: { next: number }): TrialResult[] {
  const ps = s.ask(n) as Array<{ arch: TrialResult['arch'] }>
  return ps.map((p) => {
    const key = space.key(p.arch)
    const objective = valid[table.rowOfKey(key)] as number
    return { id: id.next++, arch: p.arch, key, status: 'ok', objective, metrics: { objective } }
  })
}

let failed = false
const plugins = [bananasStrategy, boStrategy, evolutionStrategy] as SamplingStrategyPlugin[]
for (const plugin of plugins) {
  for (const batch of [1, 8]) {
    const cpu: number[] = []
    const wall: number[] = []
    for (let seed = 0; seed < 5; seed++) {
      const s = createStrategy(plugin, { space, seed })
      const id = { next: 0 }
      while (id.next < 100) s.tell(results(s, batch, id))
      for (let k = 0; k < 10; k++) {
        const c0 = cpuMs()
        const w0 = performance.now()
        const r = results(s, batch, id)
        s.tell(r)
        cpu.push((cpuMs() - c0) / batch)
        wall.push((performance.now() - w0) / batch)
      }
    }
    const m = median(cpu)
    const ok = m <= TARGET_MS
    failed ||= !ok
    console.log(
      `${plugin.name.padEnd(10)} batch ${batch}: ${m.toFixed(2)} ms CPU per ask + tell at 100 trials (median; wall ${median(wall).toFixed(2)} ms) ${ok ? 'ok' : `FAIL (target ≤ ${TARGET_MS} ms)`}`,
    )
  }
}
if (failed) process.exitCode = 1
