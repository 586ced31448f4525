import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { deflateSync } from 'node:zlib'
import { chromium } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startServer } from '../../../examples/browser-classify/serve.mjs'
import {
  batches,
  batchNorms,
  type BuildOptions,
  buildNetwork,
  type Dataset,
  inputPipeline,
  loadNetwork,
  type Network,
  recalibrateBatchNorms,
  type SpaceName,
  saveLayersModel,
} from '@naskit/trainer-tfjs'
import { isNaskitError } from '@naskit/core'
import { exportModels, type ModelCard, runCli, runExperiment } from '../src/index'
import sleepPlugin from './fixtures/sleep-evaluator'
import { CLASSES, colourDataset, IMAGE } from './fixtures/tfjs-arrays-evaluator'
import { captureIo, tmp } from './helpers'
import { needs } from './optional'

// The runner does not depend on TensorFlow.js: take the trainer's copy (the one its sources use).
type Tf = typeof import('@tensorflow/tfjs')
const trainerDir = join(import.meta.dirname, '..', '..', 'trainer-tfjs')
const tf: Tf = await import(
  pathToFileURL(createRequire(join(trainerDir, 'package.json')).resolve('@tensorflow/tfjs')).href
)
const tfMinJs = join(trainerDir, 'node_modules', '@tensorflow', 'tfjs', 'dist', 'tf.min.js')
const exampleDir = join(import.meta.dirname, '..', '..', '..', 'examples', 'browser-classify')
const evaluatorFile = join(import.meta.dirname, 'fixtures', 'tfjs-arrays-evaluator.ts')

const CHROMIUM = '/usr/bin/chromium'
const haveChromium = needs({
  name: 'Chromium',
  available: existsSync(CHROMIUM),
  tests: 'the exported-model tests in headless Chromium',
  enable: 'apt-get install -y chromium',
})

/** The first `n` test images of a dataset, raw (what an exported model takes). */
function testPixels(ds: Dataset, n: number): Float32Array {
  const per = ds.imageShape[0] * ds.imageShape[1] * ds.imageShape[2]
  return Float32Array.from(ds.test.images.subarray(0, n * per))
}

/** naskit's own forward pass on the first `n` test images: the trainer's batches, then the network. */
function naskitLogits(net: Network, ds: Dataset, n: number): number[][] {
  const view = { set: ds.test, indices: Uint32Array.from({ length: n }, (_, i) => i), dataset: ds }
  const batch = batches(view, { batchSize: n }).next().value!
  const out = net.predict(batch.x)
  const rows = out.arraySync() as number[][]
  tf.dispose([batch.x, batch.y, out])
  return rows
}

function maxDiff(a: number[][], b: number[][]): number {
  let d = 0
  for (const [i, row] of a.entries()) {
    for (const [j, v] of row.entries()) d = Math.max(d, Math.abs(v - (b[i]?.[j] ?? Number.NaN)))
  }
  return Number.isNaN(d) || a.length !== b.length ? Number.POSITIVE_INFINITY : d
}

const argmax = (row: number[]) => row.indexOf(Math.max(...row))

/** An RGB PNG of one 8-bit image (no colour profile, so a browser draws the bytes as they are). */
function png(pixels: ArrayLike<number>, width: number, height: number): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    return c >>> 0
  })
  const crc = (b: Buffer) => {
    let c = 0xffffffff
    for (const v of b) c = (crcTable[(c ^ v) & 0xff] as number) ^ (c >>> 8)
    return (c ^ 0xffffffff) >>> 0
  }
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data])
    const out = Buffer.alloc(body.length + 8)
    out.writeUInt32BE(data.length, 0)
    body.copy(out, 4)
    out.writeUInt32BE(crc(body), body.length + 4)
    return out
  }
  const header = Buffer.alloc(13)
  header.writeUInt32BE(width, 0)
  header.writeUInt32BE(height, 4)
  header[8] = 8 // bit depth
  header[9] = 2 // RGB
  const rows = Buffer.alloc(height * (1 + width * 3))
  for (let y = 0; y < height; y++) {
    rows[y * (1 + width * 3)] = 0 // no filter
    for (let x = 0; x < width * 3; x++)
      rows[y * (1 + width * 3) + 1 + x] = pixels[y * width * 3 + x]!
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ])
}

let workDir = ''
let modelDir = ''
let card: ModelCard
const dataset = colourDataset()

// the experiment is shared by the tests (tmp() folders go after each test)
beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'naskit-export-layers-'))
  await runExperiment({
    out: join(workDir, 'exp'),
    config: {
      space: 'chain',
      evaluator: { name: evaluatorFile, options: { epochs: 1 } },
      budget: 2,
      seed: 5,
      executor: 'inline',
    },
  })
  const c = captureIo(workDir)
  const code = await runCli(['export', 'exp', '--format', 'tfjs'], c.io)
  if (code !== 0) throw new Error(`naskit export failed: ${c.err.join('')}`)
  const models = join(workDir, 'exp', 'models')
  const trial = readdirSync(models).find((f) => f.startsWith('trial-'))!
  modelDir = join(models, trial)
  card = JSON.parse(readFileSync(join(modelDir, 'export.json'), 'utf8'))
}, 120_000)
afterAll(() => rmSync(workDir, { recursive: true, force: true }))

describe('naskit export --format tfjs', () => {
  it('writes a standard Layers model and a model card beside it', () => {
    expect(readdirSync(modelDir).sort()).toEqual(['export.json', 'model.json', 'weights.bin'])
    const json = JSON.parse(readFileSync(join(modelDir, 'model.json'), 'utf8'))
    expect(json.format).toBe('layers-model')
    expect(json.modelTopology.class_name).toBe('Model')
    expect(card).toMatchObject({
      format: 'tfjs',
      model: 'model.json',
      files: ['model.json', 'weights.bin', 'export.json'],
      classes: CLASSES,
      inputShape: IMAGE,
      input: { pixels: 'raw', shape: IMAGE, scale: 1 / 255, resize: null },
      output: 'logits',
      space: 'chain',
      evaluator: { name: 'colours', options: { epochs: 1, resolution: 8 } },
      trial: { rank: 1 },
    })
    expect(card.naskitVersion).toMatch(/^\d+\.\d+\.\d+/)
    expect((card.input as { mean: number[] }).mean).toHaveLength(3)
    expect(card.params).toBe(card.metrics.params)
    expect(card.flops).toBeGreaterThan(0)
    expect(card.latency_ms).toBeGreaterThan(0)
    expect(card.architecture).toHaveProperty('layers')
    expect(card.trial.searchObjective).toBe(card.metrics.objective)
    const index = JSON.parse(readFileSync(join(workDir, 'exp', 'models', 'export.json'), 'utf8'))
    expect(index.models).toHaveLength(1)
    expect(index.models[0]).toMatchObject({
      ...card,
      rank: 1,
      trialId: card.trial.id,
      dir: modelDir,
    })
  })

  it('loads with plain tf.loadLayersModel in Node and predicts as naskit does, with the same accuracy', async () => {
    const server = await startServer({ root: modelDir })
    try {
      const model = await tf.loadLayersModel(`${server.url}/model.json`)
      const n = dataset.test.count
      const x = tf.tensor4d(testPixels(dataset, n), [n, ...IMAGE])
      const y = model.predict(x) as import('@tensorflow/tfjs').Tensor
      const got = y.arraySync() as number[][]
      tf.dispose([x, y])
      model.dispose()
      const net = await loadNetwork(modelDir)
      const want = naskitLogits(net, dataset, n)
      net.dispose()
      expect(maxDiff(got, want)).toBeLessThanOrEqual(1e-4)
      const hits = got.filter((row, i) => argmax(row) === dataset.test.labels[i]).length
      expect(hits / n).toBeCloseTo(card.metrics.test_accuracy as number, 6)
    } finally {
      await server.close()
    }
  })
})

describe('exportModels with an evaluator object', () => {
  it('exports an experiment whose evaluator was given as an object with that object', async () => {
    const out = join(tmp(), 'exp')
    await runExperiment({
      out,
      config: { space: 'nb201', evaluator: sleepPlugin, budget: 3, seed: 2 },
    })
    const err = await exportModels(out, { format: 'tfjs' }).catch((e: unknown) => e)
    expect(isNaskitError(err, 'E_BAD_OPTIONS')).toBe(true)
    expect((err as Error).message).toContain('exportModels(dir, { format, evaluator })')
    const evaluator = sleepPlugin.create({ options: { delayMs: 0, logFile: '' } })
    const { models } = await exportModels(out, { format: 'tfjs', evaluator })
    expect(models).toHaveLength(1)
    const saved = JSON.parse(readFileSync(join(models[0]!.dir, 'model.json'), 'utf8'))
    expect(saved.trialId).toBe(models[0]!.trialId)
    expect(models[0]!.card).toMatchObject({
      classes: null,
      inputShape: null,
      space: 'nb201',
      evaluator: { name: 'sleep' },
      trial: { rank: 1 },
    })
  })
})

/** One small network per space with real batch-norm statistics, saved as a Layers model. */
async function spaceModels(
  root: string,
): Promise<Array<{ space: SpaceName; dir: string; net: Network }>> {
  const specs: Array<{ space: SpaceName; arch: unknown; build: BuildOptions }> = [
    {
      space: 'chain',
      arch: {
        layers: [
          'conv_3x3',
          'attention',
          'sep_conv_5x5',
          'max_pool_3x3',
          'avg_pool_3x3',
          'skip_connect',
        ].map((op) => ({ op })),
        width_multiplier: 1,
        resolution: 256,
      },
      build: { chain: { baseChannels: 4, resolution: 10, maxTokens: 16 } },
    },
    {
      space: 'nasnet',
      arch: {
        blocks: [
          { kernel: 3, channels: 6, skip: true },
          { kernel: 7, channels: 8, skip: true },
          { kernel: 5, channels: 8, skip: false },
        ],
      },
      build: {},
    },
    {
      space: 'nb201',
      arch: {
        cell: {
          nodes: [
            { inputs: [0], ops: ['nor_conv_3x3'] },
            { inputs: [0, 1], ops: ['avg_pool_3x3', 'none'] },
            { inputs: [0, 1, 2], ops: ['skip_connect', 'nor_conv_1x1', 'nor_conv_3x3'] },
          ],
        },
      },
      build: { nb201: { channels: 4, cellsPerStage: 1 } },
    },
    {
      space: 'darts',
      arch: {
        normal: {
          nodes: [
            { inputs: [0, 1], ops: ['sep_conv_3x3', 'dil_conv_5x5'] },
            { inputs: [1, 2], ops: ['skip_connect', 'max_pool_3x3'] },
            { inputs: [0, 3], ops: ['avg_pool_3x3', 'none'] },
            { inputs: [2, 4], ops: ['dil_conv_3x3', 'sep_conv_5x5'] },
          ],
        },
        reduce: {
          nodes: [
            { inputs: [0, 1], ops: ['max_pool_3x3', 'sep_conv_5x5'] },
            { inputs: [0, 2], ops: ['dil_conv_3x3', 'skip_connect'] },
            { inputs: [1, 3], ops: ['avg_pool_3x3', 'dil_conv_5x5'] },
            { inputs: [2, 4], ops: ['none', 'skip_connect'] },
          ],
        },
      },
      build: { darts: { channels: 4, layers: 3, stemMultiplier: 2 } },
    },
  ]
  const out: Array<{ space: SpaceName; dir: string; net: Network }> = []
  for (const s of specs) {
    const net = buildNetwork(
      s.arch,
      { ...s.build, inputShape: IMAGE, numClasses: 3, seed: 1 },
      s.space,
    )
    const view = {
      set: dataset.train,
      indices: Uint32Array.from({ length: 16 }, (_, i) => i),
      dataset,
    }
    recalibrateBatchNorms(batchNorms(net), batches(view, { batchSize: 8 }), (b) => {
      net.apply(b.x, true)
      tf.dispose([b.x, b.y])
    })
    const dir = join(root, s.space)
    await saveLayersModel(net, dir, {
      arch: s.arch,
      space: s.space,
      build: s.build,
      input: inputPipeline(dataset),
      classNames: dataset.classNames,
    })
    out.push({ space: s.space, dir, net })
  }
  return out
}

describe.skipIf(!haveChromium)('exported models in headless Chromium', () => {
  let browser: Awaited<ReturnType<typeof chromium.launch>>
  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    })
  })
  afterAll(async () => {
    await browser?.close()
  })

  /** Opens the example page on a model folder; returns the page and its console errors. */
  async function openPage(model: string, modelUrl?: string) {
    const server = await startServer({
      root: exampleDir,
      model,
      files: { '/node_modules/@tensorflow/tfjs/dist/tf.min.js': tfMinJs },
    })
    const page = await browser.newPage()
    const errors: string[] = []
    page.on('pageerror', (e) => errors.push(e.message))
    page.on('console', (m) => {
      // a missing file is reported by its response below
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) {
        errors.push(m.text())
      }
    })
    // the model card beside the model is optional: only its absence may be a 404
    page.on('response', (r) => {
      if (r.status() >= 400 && !r.url().endsWith('/export.json')) {
        errors.push(`${r.status()} ${r.url()}`)
      }
    })
    await page.goto(`${server.url}/${modelUrl ? `?model=${encodeURIComponent(modelUrl)}` : ''}`)
    await page.waitForSelector('body[data-state="ready"], body[data-state="error"]')
    return { page, errors, close: () => Promise.all([page.close(), server.close()]) }
  }

  it('loads one exported model per space with plain TensorFlow.js and predicts as naskit does', async () => {
    const root = tmp()
    const models = await spaceModels(root)
    const n = 4
    // the page shows the first model; the page's own `tf` loads all of them
    const { page, errors, close } = await openPage(root, 'model/chain/model.json')
    try {
      expect(errors).toEqual([])
      for (const m of models) {
        const r = await page.evaluate(
          async ({ url, pixels, shape }) => {
            const tfjs = (globalThis as unknown as { tf: Tf }).tf
            const model = await tfjs.loadLayersModel(url)
            const y = model.predict(
              tfjs.tensor4d(pixels, shape as [number, number, number, number]),
            )
            const out = {
              logits: (y as { arraySync(): number[][] }).arraySync(),
              backend: tfjs.getBackend(),
            }
            model.dispose()
            return out
          },
          {
            url: `model/${m.space}/model.json`,
            pixels: Array.from(testPixels(dataset, n)),
            shape: [n, ...IMAGE],
          },
        )
        const want = naskitLogits(m.net, dataset, n)
        expect(r.logits.map(argmax), m.space).toEqual(want.map(argmax))
        expect(maxDiff(r.logits, want), `${m.space} on ${r.backend}`).toBeLessThanOrEqual(1e-4)
      }
      expect(errors).toEqual([])
    } finally {
      await close()
      for (const m of models) m.net.dispose()
    }
  }, 60_000)

  it('the browser-classify example classifies an image the user picks', async () => {
    const { page, errors, close } = await openPage(modelDir)
    try {
      expect(errors).toEqual([])
      expect(await page.locator('#model-info').textContent()).toContain('red, green, blue')
      const i = 1
      const per = IMAGE[0] * IMAGE[1] * IMAGE[2]
      const bytes = dataset.test.images.subarray(i * per, (i + 1) * per)
      const file = join(tmp(), 'picked.png')
      writeFileSync(file, png(bytes, IMAGE[1], IMAGE[0]))
      await page.setInputFiles('#image', file)
      await page.waitForSelector('body[data-state="classified"]')
      const result = await page.evaluate(
        () =>
          (
            globalThis as unknown as {
              naskitClassifier: { last: { label: string; index: number; logits: number[] } }
            }
          ).naskitClassifier.last,
      )
      const net = await loadNetwork(modelDir)
      const want = naskitLogits(net, dataset, i + 1)[i]!
      net.dispose()
      expect(maxDiff([result.logits], [want])).toBeLessThanOrEqual(1e-4)
      expect(result.label).toBe(CLASSES[argmax(want)])
      expect(await page.locator('#status').textContent()).toBe(`It looks like: ${result.label}`)
      expect(await page.locator('#predictions li').first().getAttribute('data-class')).toBe(
        result.label,
      )
      expect(errors).toEqual([])
    } finally {
      await close()
    }
  }, 60_000)
})
