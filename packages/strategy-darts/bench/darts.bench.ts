/**
 * DARTS on MNIST at 16×16 over the NAS-Bench-201 space, several seeds:
 * - the architecture parameters' evolution (an SVG plot),
 * - the derived architectures and their CIFAR-10 test accuracy from the NAS-Bench-201 table,
 *   for the alpha-derived cell (plain DARTS) and for the default remedy's cell,
 * - the cost of one search epoch against one epoch of training the largest single
 *   architecture (every edge nor_conv_3x3) on the same images and backend,
 * - the supernet's peak memory.
 *
 * Usage: pnpm bench [-- --seeds 0,1,2 --epochs 6 --train 2000 --channels 8 --cells 1
 *                      --remedy darts-pt --pt-eval 512 --backend wasm --out bench/results]
 * The table is read from NASKIT_NB201 or ../shared/data/nasbench201/nb201.csv beside the checkout.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { nb201FromString, nb201Space, nb201ToString } from '@naskit/core'
import {
  type BackendChoice,
  loadMnist,
  Nb201Network,
  selectBackend,
  splitDataset,
  trainNetwork,
} from '@naskit/trainer-tfjs'
import { type DartsRemedy, type DartsSearchResult, dartsSearch } from '../src/index.js'

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
    `<text x="${pad}" y="16" font-size="13">DARTS on MNIST 16×16, NAS-Bench-201 space: softmax(alpha) per edge over the search epochs</text>`,
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

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

async function singleArchEpochMs(seed: number): Promise<number> {
  const dataset = loadMnist()
  // the same images the search uses: its two halves together
  const half = Math.floor(trainSize / 2)
  const split = splitDataset(dataset, { validationSize: half, trainSize: half, seed })
  const view = {
    ...split.train,
    indices: Uint32Array.from([...split.train.indices, ...split.validation.indices]),
  }
  const arch = nb201FromString(
    '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|',
  )
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

async function main() {
  const sel = await selectBackend({ backend, log: false })
  const table = readTable(csvPath)
  const space = nb201Space()
  mkdirSync(outDir, { recursive: true })
  const runs: Array<{ seed: number; r: DartsSearchResult }> = []
  const rows: Array<Record<string, unknown>> = []
  const singleMs: number[] = []
  console.log(
    `DARTS bench: nb201, MNIST 16x16, C=${channels}, N=${cells}, ${trainSize} images, ${epochs} epochs, backend ${sel.backend}, seeds ${seeds.join(',')}`,
  )
  for (const seed of seeds) {
    singleMs.push(await singleArchEpochMs(seed))
    const t0 = performance.now()
    const r = await dartsSearch({
      space,
      dataset: loadMnist(),
      trainSize,
      resolution: 16,
      channels,
      layers: cells,
      epochs,
      seed,
      ...(remedy === '' ? {} : { remedy }),
      ...(ptEval === '' ? {} : { ptEvalImages: Number(ptEval) }),
    })
    const wall = performance.now() - t0
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
      peakMB: +(r.peakBytes / 2 ** 20).toFixed(2),
      paramMB: +(r.paramBytes / 2 ** 20).toFixed(3),
      supernetParams: r.paramCount,
      finalValAcc: +r.history.at(-1)!.valAccuracy.toFixed(4),
    }
    rows.push(row)
    console.log(JSON.stringify(row))
  }
  const searchEpoch = median(runs.map((x) => x.r.epochMs))
  const single = median(singleMs)
  const summary = {
    backend: sel.backend,
    config: { channels, cells, trainSize, epochs, resolution: 16, dataset: 'mnist' },
    rows,
    minCifar10: Math.min(...rows.map((r) => Number(r.cifar10))),
    meanCifar10: rows.reduce((a, r) => a + Number(r.cifar10), 0) / rows.length,
    meanAlphaCifar10: rows.reduce((a, r) => a + Number(r.alphaCifar10), 0) / rows.length,
    medianSearchEpochMs: Math.round(searchEpoch),
    medianSingleArchEpochMs: Math.round(single),
    costRatio: +(searchEpoch / single).toFixed(2),
    peakMB: Math.max(...rows.map((r) => Number(r.peakMB))),
  }
  writeFileSync(path.join(outDir, 'darts-nb201.json'), `${JSON.stringify(summary, null, 2)}\n`)
  writeFileSync(path.join(outDir, 'darts-nb201-alphas.svg'), alphaPlot(runs))
  console.log(
    `\nCIFAR-10 (NAS-Bench-201) of the derived cells: ${rows.map((r) => r.cifar10).join(', ')} (min ${summary.minCifar10}; target >= 93.0)`,
  )
  console.log(
    `plain DARTS (alpha-derived) cells of the same searches: ${rows.map((r) => r.alphaCifar10).join(', ')}`,
  )
  console.log(
    `search epoch ${summary.medianSearchEpochMs} ms vs single-architecture epoch ${summary.medianSingleArchEpochMs} ms: ${summary.costRatio}x (target <= 6x)`,
  )
  console.log(`supernet peak memory ${summary.peakMB} MB; results in ${outDir}`)
}

await main()
