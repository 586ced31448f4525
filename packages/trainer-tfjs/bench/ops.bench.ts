/**
 * Per-op training speed: every op of the chain, NAS-Bench-201 and DARTS spaces at 28×28 and
 * 14×14, C = 16 in and out, stride 1, batch 64: one training step (forward, and the gradients
 * of the op's variables and of its input) on wasm and on the tensorflow backend (when tfjs-node
 * loads), in interleaved rounds. Shows which ops are slow, and each op against a plain
 * `conv_3x3` of the same width on the same backend (target: attention and the separable and
 * dilated convolutions within 3×). Results: bench/results/ops.{json,md}.
 * Run: npx tsx --conditions=@naskit/source bench/ops.bench.ts [rounds] [steps]
 */
import os from 'node:os'
import { CHAIN_OPS, DARTS_OPS, NB201_OPS } from '@naskit/core'
import * as tf from '@tensorflow/tfjs'
import { selectBackend } from '../src/backend.js'
import { initContext, type Module } from '../src/ops/module.js'
import { createOp } from '../src/ops/ops.js'
import { environment, median, writeResults } from './results.js'

const rounds = Number(process.argv[2] ?? 3)
const steps = Number(process.argv[3] ?? 3)
const batch = 64
const C = 16
const ops = [...new Set([...CHAIN_OPS, ...NB201_OPS, ...DARTS_OPS])].filter((o) => o !== 'none')
const sizes = [28, 14]

type Backend = 'wasm' | 'tensorflow'
const backends: Backend[] = []
for (const b of ['wasm', 'tensorflow'] as const) {
  try {
    await selectBackend({ backend: b, log: false })
    backends.push(b)
  } catch (e) {
    console.log(`${b}: not measured (${(e as Error).message.split('\n')[0]})`)
  }
}

interface Case {
  op: string
  size: number
  backend: Backend
  step(): void
  dispose(): void
}
const cases: Case[] = []
for (const backend of backends) {
  await tf.setBackend(backend)
  for (const size of sizes) {
    for (const op of ops) {
      const module: Module = createOp(op, { cIn: C, cOut: C, stride: 1 }, initContext(1))
      const x = tf.randomNormal([batch, size, size, C], 0, 1, 'float32', 7) as tf.Tensor4D
      const vars = module.trainableVariables()
      cases.push({
        op,
        size,
        backend,
        step: () =>
          tf.tidy(() => {
            const f = (input: tf.Tensor) => tf.sum(module.apply(input as tf.Tensor4D, true))
            // pools and skips have no variables: only the input's gradient then
            const grads =
              vars.length > 0 ? tf.variableGrads(() => f(x) as tf.Scalar, vars).grads : {}
            const dx = tf.grad(f)(x)
            // wait for the results, as a training loop does
            dx.dataSync()
            for (const g of Object.values(grads)) g.dataSync()
          }),
        dispose: () => {
          x.dispose()
          module.dispose()
        },
      })
    }
  }
}

const timings = new Map<Case, number[]>()
const run = async (c: Case, n: number) => {
  await tf.setBackend(c.backend)
  const t0 = performance.now()
  for (let i = 0; i < n; i++) c.step()
  return (batch * n) / ((performance.now() - t0) / 1000)
}
for (const c of cases) await run(c, 1) // warm up
for (let r = 0; r < rounds; r++) {
  for (const c of cases) {
    const list = timings.get(c) ?? []
    list.push(await run(c, steps))
    timings.set(c, list)
  }
  console.log(`round ${r + 1} of ${rounds} done`)
}
for (const c of cases) {
  await tf.setBackend(c.backend)
  c.dispose()
}

const rows = cases.map((c) => {
  const ref = cases.find((d) => d.op === 'conv_3x3' && d.size === c.size && d.backend === c.backend)
  const own = timings.get(c)!
  const base = ref ? timings.get(ref)! : null
  return {
    op: c.op,
    size: c.size,
    backend: c.backend,
    imagesPerSecond: median(own),
    // how many times slower than conv_3x3 (per round, then the median)
    vsConv3x3: base ? median(own.map((v, i) => base[i]! / v)) : null,
  }
})
const result = {
  benchmark: 'per-op training speed',
  batch,
  channels: C,
  rounds,
  steps,
  rows,
  environment: environment(),
}
console.log(JSON.stringify(result))
const table: string[] = []
for (const size of sizes) {
  table.push(
    '',
    `### ${size}×${size}, C = ${C}, batch ${batch}: training images/s (× slower than conv_3x3)`,
    '',
  )
  table.push(
    `| op | ${backends.join(' | ')} |`,
    `| --- | ${backends.map(() => '---').join(' | ')} |`,
  )
  for (const op of ops) {
    const cells = backends.map((b) => {
      const r = rows.find((x) => x.op === op && x.size === size && x.backend === b)!
      const slow = r.vsConv3x3 !== null && r.vsConv3x3 > 3 ? ' **slow**' : ''
      return `${r.imagesPerSecond.toFixed(0)} (${r.vsConv3x3?.toFixed(2) ?? '—'}×)${slow}`
    })
    table.push(`| \`${op}\` | ${cells.join(' | ')} |`)
  }
}
writeResults(
  'ops',
  result,
  [
    '# Per-op training speed',
    '',
    `Command: \`npx tsx --conditions=@naskit/source bench/ops.bench.ts ${rounds} ${steps}\`: one training step (forward, gradients of the op's variables and of its input), stride 1, medians of ${rounds} interleaved rounds. Load average at the end: ${os.loadavg()[0]!.toFixed(2)} on ${os.cpus().length} cores. **slow**: more than 3× a plain conv_3x3 of the same width on the same backend.`,
    ...table,
  ].join('\n'),
)
