/**
 * ask + tell overhead per trial on the NAS-Bench-201 space (target ≤ 20 µs), sequential
 * (ask 1, tell 1) and with 8 parallel workers (ask 8, tell 8). The figure is CPU time of the
 * whole loop minus the host's part (keys, objectives, result objects) replayed alone, so a
 * busy machine does not inflate it; the median of 7 repetitions of 1,000 trials after a warm-up.
 *   pnpm --filter @naskit/strategy-evolution bench
 */
import {
  type Arch,
  createStrategy,
  hashString,
  nb201Space,
  type SamplingStrategyPlugin,
  type TrialResult,
} from '@naskit/core'
import { evolutionStrategy, localSearchStrategy } from '../src/index'

const TARGET_US = 20
const space = nb201Space()

const cpuUs = () => {
  const u = process.cpuUsage()
  return u.user + u.system
}

function hostResults(archs: Arch[], first: number): TrialResult[] {
  return archs.map((arch, i) => {
    const key = space.key(arch)
    const objective = (hashString(key) % 10_000) / 100
    return { id: first + i, arch, key, status: 'ok', objective, metrics: { objective } }
  })
}

/** CPU µs per trial of ask + tell. */
function measure(
  plugin: SamplingStrategyPlugin,
  trials: number,
  batch: number,
  seed: number,
): { cpu: number; wall: number } {
  const s = createStrategy(plugin, { space, seed })
  const asked: Arch[][] = []
  const c0 = cpuUs()
  const w0 = performance.now()
  let id = 0
  while (id < trials) {
    const archs = (s.ask(batch) as Array<{ arch: Arch }>).map((p) => p.arch)
    asked.push(archs)
    s.tell(hostResults(archs, id))
    id += archs.length
  }
  const full = cpuUs() - c0
  const fullWall = performance.now() - w0
  // the host's share, replayed alone
  const c1 = cpuUs()
  const w1 = performance.now()
  let sink = 0
  let j = 0
  for (const archs of asked) {
    sink += hostResults(archs, j).length
    asked[j] = []
    j++
  }
  const host = cpuUs() - c1
  const hostWall = performance.now() - w1
  if (sink !== trials) throw new Error('replay mismatch')
  return {
    cpu: Math.max(0, full - host) / trials,
    wall: (Math.max(0, fullWall - hostWall) * 1000) / trials,
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] as number

let failed = false
const plugins = [evolutionStrategy, localSearchStrategy] as SamplingStrategyPlugin[]
// warm-up, so that the figures are the steady state after the JIT compiled the hot paths
for (const plugin of plugins)
  for (const batch of [1, 8])
    for (let seed = 90; seed < 94; seed++) measure(plugin, 3000, batch, seed)
for (const plugin of plugins) {
  for (const batch of [1, 8]) {
    const runs = [0, 1, 2, 3, 4, 5, 6].map((seed) => measure(plugin, 1000, batch, seed))
    const cpu = median(runs.map((r) => r.cpu))
    const wall = median(runs.map((r) => r.wall))
    const long = measure(plugin, 10_000, batch, 7)
    const ok = cpu <= TARGET_US
    failed ||= !ok
    console.log(
      `${plugin.name.padEnd(13)} batch ${batch}: ${cpu.toFixed(2)} µs CPU per trial (wall ${wall.toFixed(2)} µs; over 10,000 trials ${long.cpu.toFixed(2)} µs CPU) ${ok ? 'ok' : `FAIL (target ≤ ${TARGET_US} µs)`}`,
    )
  }
}
if (failed) process.exitCode = 1
