/**
 * Cost of the rl strategy per architecture: ask(1) + tell(result), controller update
 * included, on every built-in space with the default options (target: ≤ 5 ms per
 * architecture on NAS-Bench-201). Prints wall-clock and process CPU time; on a busy machine
 * the CPU figure is the one to compare with the target.
 *
 *   tsx --conditions=@naskit/source bench/speed.ts [--trials 300] [--backend cpu|wasm] [--options '{…}']
 */
import '@tensorflow/tfjs-backend-cpu'
import '@tensorflow/tfjs-backend-wasm'
import { parseArgs } from 'node:util'
import {
  chainSpace,
  createStrategy,
  dartsSpace,
  nasnetSpace,
  nb201Space,
  type TrialResult,
} from '@naskit/core'
import { syntheticObjective } from '@naskit/core/testing'
import * as tf from '@tensorflow/tfjs-core'
import { rlStrategy } from '../src/index'

const { values: args } = parseArgs({
  options: {
    trials: { type: 'string', default: '300' },
    backend: { type: 'string', default: 'cpu' },
    options: { type: 'string', default: '{}' },
  },
})
await tf.setBackend(args.backend)
const trials = Number(args.trials)
const options = JSON.parse(args.options)
const cpuNow = () => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}

for (const space of [nb201Space(), chainSpace(), nasnetSpace(), dartsSpace()]) {
  const strategy = createStrategy(rlStrategy, { space, options, seed: 1 })
  // warm-up: JIT, tfjs initialisation and gradient registration
  for (let i = 0; i < 10; i++) {
    const [p] = await strategy.ask(1)
    if (p === undefined) break
    const key = space.key(p.arch)
    await strategy.tell([
      {
        id: -1 - i,
        arch: p.arch,
        key,
        status: 'ok',
        objective: syntheticObjective(key),
        metrics: {},
        meta: p.meta ?? null,
      },
    ])
  }
  let wall = 0
  let cpu = 0
  let n = 0
  let decisions = 0
  for (let i = 0; i < trials; i++) {
    const t0 = performance.now()
    const c0 = cpuNow()
    const [p] = await strategy.ask(1)
    if (p === undefined) break
    const key = space.key(p.arch)
    decisions += (p.meta as { decisions: number[] }).decisions.length
    const objective = syntheticObjective(key)
    const result: TrialResult = {
      id: i,
      arch: p.arch,
      key,
      status: 'ok',
      objective,
      metrics: { objective },
      meta: p.meta ?? null,
    }
    await strategy.tell([result])
    wall += performance.now() - t0
    cpu += cpuNow() - c0
    n++
  }
  const target = space.name === 'nb201' ? `  target ≤ 5 ms: ${cpu / n <= 5 ? 'ok' : 'over'}` : ''
  console.log(
    `${space.name.padEnd(7)} ${(decisions / n).toFixed(1).padStart(5)} decisions  ask+tell ${(wall / n).toFixed(2)} ms/arch wall, ${(cpu / n).toFixed(2)} ms/arch cpu (${n} trials, ${tf.getBackend()})${target}`,
  )
}
