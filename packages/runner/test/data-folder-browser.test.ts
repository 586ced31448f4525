import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { startServer } from '../../../examples/browser-classify/serve.mjs'
import { runCli } from '../src/index'
import { captureIo, loadSharp, tmp } from './helpers'
import { needs } from './optional'

// From a folder of PNG files to a prediction in a browser, as a web developer goes:
// naskit search --data, naskit export --format tfjs, the browser-classify page.

const sharp = loadSharp()
const tfMinJs = join(
  fileURLToPath(new URL('.', import.meta.resolve('@tensorflow/tfjs'))),
  'tf.min.js',
)
const exampleDir = join(import.meta.dirname, '..', '..', '..', 'examples', 'browser-classify')

const CHROMIUM = '/usr/bin/chromium'
const haveChromium = needs({
  name: 'Chromium',
  available: existsSync(CHROMIUM),
  tests: 'the data-folder to browser test',
  enable: 'apt-get install -y chromium',
})

const CLASSES = ['blue', 'green', 'red']

/** 12×12 RGB photos whose dominant channel is the class, with noise. */
async function photos(root: string, perClass: number): Promise<string> {
  const dir = join(root, 'photos')
  for (const name of CLASSES) {
    mkdirSync(join(dir, name), { recursive: true })
    const channel = { red: 0, green: 1, blue: 2 }[name]!
    for (let i = 0; i < perClass; i++) {
      const px = Buffer.alloc(12 * 12 * 3)
      for (let p = 0; p < px.length; p++) {
        const noise = (i * 31 + p * 17) % 60
        px[p] = p % 3 === channel ? 170 + noise : noise
      }
      await sharp(px, { raw: { width: 12, height: 12, channels: 3 } })
        .png()
        .toFile(join(dir, name, `${i}.png`))
    }
  }
  return dir
}

describe.skipIf(!haveChromium)('your images in, a model a web page runs out', () => {
  it('searches a PNG folder, exports, and the page classifies a picked photo', async () => {
    const root = tmp()
    const dir = await photos(root, 12)
    const c = captureIo(root)
    const options = JSON.stringify({ epochs: 6, batchSize: 8, baseChannels: 4, backend: 'wasm' })
    const args = ['--data', 'photos', '--budget', '2', '--evaluator-options', options]
    expect(
      await runCli(['search', ...args, '--executor', 'inline', '--out', 'exp', '--quiet'], c.io),
      c.err.join(''),
    ).toBe(0)
    expect(await runCli(['export', 'exp', '--format', 'tfjs'], c.io), c.err.join('')).toBe(0)
    const models = join(root, 'exp', 'models')
    const modelDir = join(models, readdirSync(models).find((f) => f.startsWith('trial-'))!)
    const card = JSON.parse(readFileSync(join(modelDir, 'export.json'), 'utf8'))
    expect(card.classes).toEqual(CLASSES)
    expect(card.inputShape).toEqual([12, 12, 3])
    expect(card.evaluator.name).toBe('images')

    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    })
    const server = await startServer({
      root: exampleDir,
      model: modelDir,
      files: { '/node_modules/@tensorflow/tfjs/dist/tf.min.js': tfMinJs },
    })
    try {
      const page = await browser.newPage()
      const errors: string[] = []
      page.on('pageerror', (e) => errors.push(e.message))
      await page.goto(`${server.url}/`)
      await page.waitForSelector('body[data-state="ready"], body[data-state="error"]')
      expect(await page.locator('#model-info').textContent()).toContain('blue, green, red')
      let right = 0
      for (const name of CLASSES) {
        await page.setInputFiles('#image', join(dir, name, '3.png'))
        await page.waitForSelector('body[data-state="classified"]')
        const label = await page.evaluate(
          () =>
            (globalThis as unknown as { naskitClassifier: { last: { label: string } } })
              .naskitClassifier.last.label,
        )
        expect(CLASSES).toContain(label)
        if (label === name) right++
        await page.evaluate(() =>
          (
            globalThis as unknown as { document: { body: { removeAttribute(n: string): void } } }
          ).document.body.removeAttribute('data-state'),
        )
      }
      // the photos are easy: the found model gets most of them right in the browser
      expect(right).toBeGreaterThanOrEqual(2)
      expect(errors).toEqual([])
    } finally {
      await server.close()
      await browser.close()
    }
  }, 180_000)
})
