/**
 * DARTS on MNIST (or Fashion-MNIST) at 16×16 over the NAS-Bench-201 space, several seeds:
 * - the architecture parameters' evolution (an SVG plot),
 * - the derived architectures and their CIFAR-10 test accuracy from the NAS-Bench-201 table,
 *   for the alpha-derived cell (plain DARTS) and for the default remedy's cell,
 * - the cost of one search epoch against one epoch of training the largest single
 *   architecture (every edge nor_conv_3x3) on the same images and backend,
 * - the supernet's peak memory, and what it is made of.
 *
 * Usage: pnpm bench [-- --seeds 0,1,2 --epochs 6 --train 2000 --channels 8 --cells 1
 *                      --dataset mnist --remedy darts-pt --pt-eval 512 --pt-tune 10
 *                      --pt-criterion accuracy
 *                      --backend wasm --out bench/results]
 * The table is read from NASKIT_NB201 or ../shared/data/nasbench201/nb201.csv beside the checkout.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { nb201FromString, nb201Space, nb201ToString } from '@naskit/core'
import * as tf from '@tensorflow/tfjs'
import {
  type BackendChoice,
  type Dataset,
  loadFashionMnist,
  loadMnist,
  Nb201Network,
  selectBackend,
  splitDataset,
  trainNetwork,
} from '@naskit/trainer-tfjs'
import {
  type DartsRemedy,
  type DartsSearchResult,
  type PerturbationCriterion,
  DartsSupernet,
  dartsSearch,
  softWeights,
} from '../src/index.js'

const here = path.dirname(fileURLToPath(import.meta.url))

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback
}

const seeds = arg('seeds', '0,1,2').split(',').map(Number)
const epochs = Number(arg('epochs', '6'))
const trainSize = Number(arg('train', '2000'))
const channels = Number(arg('channels', '8'))
const cells = Number(arg('cells', '1'))
const remedy = arg('remedy', '') as DartsRemedy | ''
const backend = arg('backend', 'wasm') as BackendChoice
const ptEval = arg('pt-eval', '')
const ptTune = arg('pt-tune', '')
const ptCriterion = arg('pt-criterion', '') as PerturbationCriterion | ''
if (ptCriterion !== '' && ptCriterion !== 'accuracy' && ptCriterion !== 'loss') {
  throw new Error(`--pt-criterion must be accuracy or loss, got ${ptCriterion}`)
}
const datasetName = arg('dataset', 'mnist')
if (datasetName !== 'mnist' && datasetName !== 'fashion-mnist') {
  throw new Error(`--dataset must be mnist or fashion-mnist, got ${datasetName}`)
}
const loadData = (): Dataset => (datasetName === 'mnist' ? loadMnist() : loadFashionMnist())
const datasetLabel = datasetName === 'mnist' ? 'MNIST' : 'Fashion-MNIST'
const outDir = path.resolve(arg('out', path.join(here, 'results')))
const csvPath =
  process.env.NASKIT_NB201 ?? path.resolve(here, '../../../../shared/data/nasbench201/nb201.csv')

function readTable(file: string): Map<string, number> {
  const lines = readFileSync(file, 'utf8').split('\n')
  const header = lines[0]!.split(',')
  const archCol = header.indexOf('arch')
  const accCol = header.indexOf('cifar10_test')
  const out = new Map<string, number>()
  for (const line of lines.slice(1)) {
    const f = line.split(',')
    if (f.length > accCol) out.set(f[archCol]!, Number(f[accCol]))
  }
  return out
}

const OP_COLORS: Record<string, string> = {
  none: '#9e9e9e',
  skip_connect: '#1f77b4',
  nor_conv_1x1: '#ff7f0e',
  nor_conv_3x3: '#d62728',
  avg_pool_3x3: '#2ca02c',
}

/** Small multiples: one panel per (seed, edge), softmax(alpha) per op over the epochs. */
function alphaPlot(runs: Array<{ seed: number; r: DartsSearchResult }>): string {
  const pw = 150
  const ph = 90
  const pad = 28
  const edges = runs[0]!.r.edges
  const width = pad + edges.length * (pw + pad)
  const height = 40 + runs.length * (ph + pad + 14) + 30
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="10">`,
    '<title>DARTS alphas over the search epochs</title>',
    `<text x="${pad}" y="16" font-size="13">DARTS on ${datasetLabel} 16×16, NAS-Bench-201 space: softmax(alpha) per edge over the search epochs</text>`,
  ]
  runs.forEach(({ seed, r }, row) => {
    const y0 = 40 + row * (ph + pad + 14)
    const hist = r.history
    const all = hist.flatMap((h) => h.weights.normal.flat())
    const lo = Math.min(...all)
    const hi = Math.max(...all)
    const span = hi - lo || 1
    edges.forEach((e, col) => {
      const x0 = pad + col * (pw + pad)
      parts.push(
        `<rect x="${x0}" y="${y0 + 12}" width="${pw}" height="${ph}" fill="none" stroke="#ccc"/>`,
        `<text x="${x0}" y="${y0 + 8}">seed ${seed}, edge ${e.input}→${e.node}</text>`,
      )
      r.ops.forEach((op, k) => {
        const pts = hist.map((h, t) => {
          const x = x0 + (hist.length === 1 ? pw / 2 : (t / (hist.length - 1)) * pw)
          const y = y0 + 12 + ph - ((h.weights.normal[col]![k]! - lo) / span) * ph
          return `${x.toFixed(1)},${y.toFixed(1)}`
        })
        parts.push(
          `<polyline fill="none" stroke="${OP_COLORS[op] ?? '#000'}" stroke-width="1.5" points="${pts.join(' ')}"/>`,
        )
      })
    })
    parts.push(
      `<text x="${pad}" y="${y0 + ph + 26}" fill="#555">y from ${lo.toFixed(4)} to ${hi.toFixed(4)}; x: epochs 1–${hist.length}</text>`,
    )
  })
  const ly = height - 12
  let lx = pad
  for (const [op, color] of Object.entries(OP_COLORS)) {
    parts.push(
      `<rect x="${lx}" y="${ly - 8}" width="10" height="10" fill="${color}"/>`,
      `<text x="${lx + 14}" y="${ly}">${op}</text>`,
    )
    lx += 110
  }
  parts.push('</svg>')
  return parts.join('\n')
}

/** An arch string inside a markdown table cell: its pipes escaped. */
function cellMd(arch: unknown): string {
  return String(arch).replaceAll('|', '\\|')
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

const ALL_CONV3 =
  '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|'

async function singleArchEpochMs(seed: number): Promise<number> {
  const dataset = loadData()
  // the same images the search uses: its two halves together
  const half = Math.floor(trainSize / 2)
  const split = splitDataset(dataset, { validationSize: half, trainSize: half, seed })
  const view = {
    ...split.train,
    indices: Uint32Array.from([...split.train.indices, ...split.validation.indices]),
  }
  const arch = nb201FromString(ALL_CONV3)
  const net = new Nb201Network(arch as never, {
    channels,
    cellsPerStage: cells,
    inputShape: [16, 16, 1],
    numClasses: 10,
    seed,
  })
  try {
    const r = await trainNetwork(net, view, {
      epochs: 1,
      batchSize: 64,
      learningRate: 0.025,
      resize: [16, 16],
      seed,
    })
    return r.trainTimeMs
  } finally {
    net.dispose()
  }
}

const MB = 2 ** 20

/**
 * What the peak is made of, measured on one batch of the search's shape (64 images at
 * 16×16) with `tf.profile`, whose `peakBytes` is the largest `tf.memory().numBytes` (bytes of
 * every live tfjs tensor) seen between two kernels; every figure is above the variables:
 * - `forwardMB`: a training-mode forward pass, every intermediate tensor of every candidate
 *   op on every edge held until it ends (a gradient step's forward keeps the part the
 *   gradient needs);
 * - `weightStepMB` / `archStepMB`: a whole gradient step for the weights / for alpha: the
 *   saved forward tensors plus the backward pass, which holds the gradient of every
 *   intermediate tensor until it ends;
 * - the same for the all-nor_conv_3x3 network, for comparison.
 */
async function memoryBreakdown(seed: number) {
  const batch = 64
  const x = tf.randomNormal([batch, 16, 16, 1], 0, 1, 'float32', seed) as tf.Tensor4D
  const labels = tf.oneHot(
    tf.tensor1d(
      Array.from({ length: batch }, (_, i) => i % 10),
      'int32',
    ),
    10,
  )
  const net = new DartsSupernet(nb201Space(), {
    channels,
    layers: cells,
    inputShape: [16, 16, 1],
    numClasses: 10,
    seed,
  })
  const single = new Nb201Network(nb201FromString(ALL_CONV3) as never, {
    channels,
    cellsPerStage: cells,
    inputShape: [16, 16, 1],
    numClasses: 10,
    seed,
    affine: false,
  })
  const peak = async (f: () => unknown) => {
    const base = tf.memory().numBytes
    const info = await tf.profile(() => {
      tf.tidy(() => {
        f()
      })
      return []
    })
    return +((info.peakBytes - base) / MB).toFixed(1)
  }
  try {
    const loss = () =>
      tf.losses.softmaxCrossEntropy(labels, net.forwardWith(x, true, softWeights(net))) as tf.Scalar
    const singleLoss = () =>
      tf.losses.softmaxCrossEntropy(labels, single.apply(x, true)) as tf.Scalar
    return {
      variablesMB: +(net.paramBytes() / MB).toFixed(3),
      forwardMB: await peak(loss),
      archStepMB: await peak(() => tf.variableGrads(loss, net.archVariables())),
      weightStepMB: await peak(() => tf.variableGrads(loss, net.weightVariables())),
      singleForwardMB: await peak(singleLoss),
      singleStepMB: await peak(() => tf.variableGrads(singleLoss, single.trainableVariables())),
    }
  } finally {
    net.dispose()
    single.dispose()
    tf.dispose([x, labels])
  }
}

async function main() {
  const sel = await selectBackend({ backend, log: false })
  const table = readTable(csvPath)
  const space = nb201Space()
  mkdirSync(outDir, { recursive: true })
  const runs: Array<{ seed: number; r: DartsSearchResult }> = []
  const rows: Array<Record<string, unknown>> = []
  const singleMs: number[] = []
  const started = performance.now()
  console.log(
    `DARTS bench: nb201, ${datasetLabel} 16x16, C=${channels}, N=${cells}, ${trainSize} images, ${epochs} epochs, remedy ${remedy || 'default'}, backend ${sel.backend}, seeds ${seeds.join(',')}`,
  )
  const ratios: number[] = []
  for (const seed of seeds) {
    // the single architecture's epoch is timed before and after the search, so that a change
    // of the shared machine's load during the search weighs on both sides of the ratio
    const before = await singleArchEpochMs(seed)
    const t0 = performance.now()
    const r = await dartsSearch({
      space,
      dataset: loadData(),
      trainSize,
      resolution: 16,
      channels,
      layers: cells,
      epochs,
      seed,
      ...(remedy === '' ? {} : { remedy }),
      ...(ptEval === '' ? {} : { ptEvalImages: Number(ptEval) }),
      ...(ptTune === '' ? {} : { ptTuneSteps: Number(ptTune) }),
      ...(ptCriterion === '' ? {} : { ptCriterion }),
    })
    const wall = performance.now() - t0
    const after = await singleArchEpochMs(seed)
    singleMs.push((before + after) / 2)
    ratios.push(r.epochMs / singleMs.at(-1)!)
    runs.push({ seed, r })
    const alphaArch = nb201ToString(r.history.at(-1)!.arch)
    const finalArch = nb201ToString(r.arch)
    const row = {
      seed,
      remedy: remedy === '' ? 'default' : remedy,
      arch: finalArch,
      cifar10: table.get(finalArch),
      alphaArch,
      alphaCifar10: table.get(alphaArch),
      epochMs: Math.round(r.epochMs),
      selectionMs: r.selection ? Math.round(r.selection.timeMs) : 0,
      wallMs: Math.round(wall),
      singleArchEpochMs: Math.round(singleMs.at(-1)!),
      singleArchEpochMsBeforeAfter: [Math.round(before), Math.round(after)],
      costRatio: +ratios.at(-1)!.toFixed(2),
      peakMB: +(r.peakBytes / MB).toFixed(2),
      paramMB: +(r.paramBytes / MB).toFixed(3),
      supernetParams: r.paramCount,
      finalValAcc: +r.history.at(-1)!.valAccuracy.toFixed(4),
    }
    rows.push(row)
    console.log(JSON.stringify(row))
  }
  const memory = await memoryBreakdown(seeds[0] ?? 0)
  const searchEpoch = median(runs.map((x) => x.r.epochMs))
  const single = median(singleMs)
  const peakMB = Math.max(...rows.map((r) => Number(r.peakMB)))
  const memoryNote =
    `largest tf.memory().numBytes (bytes of all live tfjs tensors, not the process RSS) inside a search step, ` +
    `found by tf.profile on each epoch's first step (weight step, batch 64, 16x16). ` +
    `Variables are ${memory.variablesMB} MB of it; the rest is activations: one training-mode forward pass through every candidate op ` +
    `on every edge holds ${memory.forwardMB} MB, a weight-gradient step ${memory.weightStepMB} MB (an alpha-gradient step ${memory.archStepMB} MB): ` +
    `the forward tensors the gradient needs plus the backward pass, which keeps the gradient of every intermediate tensor until it ends. ` +
    `The all-nor_conv_3x3 network on the same batch: ${memory.singleForwardMB} MB forward, ${memory.singleStepMB} MB per step.`
  const summary = {
    backend: sel.backend,
    config: {
      channels,
      cells,
      trainSize,
      epochs,
      resolution: 16,
      dataset: datasetName,
      remedy: remedy || 'default',
      ptEvalImages: ptEval || 'default',
      ptTuneSteps: ptTune || 'default',
      ptCriterion: ptCriterion || 'default',
    },
    rows,
    minCifar10: Math.min(...rows.map((r) => Number(r.cifar10))),
    meanCifar10: +(rows.reduce((a, r) => a + Number(r.cifar10), 0) / rows.length).toFixed(3),
    meanAlphaCifar10: +(rows.reduce((a, r) => a + Number(r.alphaCifar10), 0) / rows.length).toFixed(
      3,
    ),
    medianSearchEpochMs: Math.round(searchEpoch),
    medianSingleArchEpochMs: Math.round(single),
    costRatio: +median(ratios).toFixed(2),
    peakMB,
    peakMemory: { ...memory, explanation: memoryNote },
    totalWallMs: Math.round(performance.now() - started),
  }
  writeFileSync(path.join(outDir, 'darts-nb201.json'), `${JSON.stringify(summary, null, 2)}\n`)
  writeFileSync(path.join(outDir, 'darts-nb201-alphas.svg'), alphaPlot(runs))
  const md = [
    '# DARTS on the NAS-Bench-201 space (bench/darts.bench.ts)',
    '',
    `${datasetLabel} at 16×16, C=${channels}, N=${cells}, ${trainSize} images (half for the weights, half for alpha), ${epochs} epochs, remedy ${summary.config.remedy}, backend ${sel.backend}. ` +
      'CIFAR-10 test accuracy from the NAS-Bench-201 table (`cifar10_test`); target ≥ 93.0 on every seed.',
    '',
    '| seed | derived cell | CIFAR-10 | plain DARTS cell (alpha) | CIFAR-10 |',
    '| --- | --- | --- | --- | --- |',
    ...rows.map(
      (r) =>
        `| ${r.seed} | \`${cellMd(r.arch)}\` | ${r.cifar10} | \`${cellMd(r.alphaArch)}\` | ${r.alphaCifar10} |`,
    ),
    '',
    `- Minimum ${summary.minCifar10}, mean ${summary.meanCifar10} (plain DARTS mean ${summary.meanAlphaCifar10}).`,
    `- Cost: one search epoch against one epoch of the all-nor_conv_3x3 network on the same images (timed before and after each search): ${rows.map((r) => `${r.costRatio}×`).join(' / ')}, median **${summary.costRatio}×** (target ≤ 6×; median epochs ${summary.medianSearchEpochMs} ms and ${summary.medianSingleArchEpochMs} ms). ` +
      `DARTS-PT selection after the last epoch: ${rows.map((r) => Math.round(Number(r.selectionMs) / 1000)).join(' / ')} s.`,
    `- Peak memory **${peakMB} MB**: ${memoryNote}`,
    `- Wall time of the whole bench: ${Math.round(summary.totalWallMs / 60000)} min (shared 2-core machine).`,
    '',
    'The alphas over the epochs: `darts-nb201-alphas.svg`; every figure: `darts-nb201.json`.',
    '',
  ].join('\n')
  writeFileSync(path.join(outDir, 'darts-nb201.md'), md)
  console.log(
    `\nCIFAR-10 (NAS-Bench-201) of the derived cells: ${rows.map((r) => r.cifar10).join(', ')} (min ${summary.minCifar10}; target >= 93.0)`,
  )
  console.log(
    `plain DARTS (alpha-derived) cells of the same searches: ${rows.map((r) => r.alphaCifar10).join(', ')}`,
  )
  console.log(
    `search epoch vs single-architecture epoch, per seed ${rows.map((r) => `${r.costRatio}x`).join(', ')}: median ${summary.costRatio}x (target <= 6x; median epochs ${summary.medianSearchEpochMs} / ${summary.medianSingleArchEpochMs} ms)`,
  )
  console.log(`supernet peak memory ${peakMB} MB: ${memoryNote}`)
  console.log(`results in ${outDir}`)
}

await main()
