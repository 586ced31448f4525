import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { chainSpace } from '@naskit/core'
import { chromium } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { archSvgs, readExperiment, reportData, runExperiment, writeReport } from '../src/index'
import { synthetic, tmp } from './helpers'
import { needs } from './optional'

const CHROMIUM = '/usr/bin/chromium'
const haveChromium = needs({
  name: 'Chromium',
  available: existsSync(CHROMIUM),
  tests: 'the report test in headless Chromium',
  enable: 'apt-get install -y chromium',
})

describe('archSvgs', () => {
  it('draws an nb201 cell as a DAG without its `none` edges', () => {
    const arch = {
      cell: {
        nodes: [
          { inputs: [0], ops: ['nor_conv_3x3'] },
          { inputs: [0, 1], ops: ['none', 'skip_connect'] },
          { inputs: [0, 1, 2], ops: ['avg_pool_3x3', 'none', 'nor_conv_1x1'] },
        ],
      },
    }
    const [svg] = archSvgs(arch)
    expect(svg).toContain('<svg')
    expect(svg?.match(/<path d="M[^"]*" fill="none" stroke="#(?!999)/g)).toHaveLength(4)
    expect(svg).toContain('nor_conv_3x3: 0 → 1')
    expect(svg).not.toContain('none: ')
  })

  it('draws a layer chain with skip connections and the scalar decisions as caption', () => {
    const [svg] = archSvgs({
      blocks: [
        { kernel: 3, channels: 64, skip: true },
        { kernel: 5, channels: 32, skip: false },
      ],
    })
    expect(svg).toContain('skip connection around layer 1')
    expect(svg).toContain('conv 5×5')
    expect(svg).toContain('>ch 32<')
    const [chain] = archSvgs({
      layers: [{ op: 'conv_3x3' }, { op: 'attention' }],
      width_multiplier: 1.25,
      resolution: 256,
    })
    expect(chain).toContain('attention')
    expect(chain).toContain('width_multiplier = 1.25')
  })
})

describe.skipIf(!haveChromium)('naskit report', () => {
  it('writes one self-contained HTML file whose charts hold the trials, with no console errors', async () => {
    const dir = join(tmp(), 'exp')
    await runExperiment({
      out: dir,
      config: {
        space: 'nb201',
        evaluator: { name: synthetic, options: { failEvery: 7 } },
        budget: 40,
        seed: 2,
      },
    })
    const file = await writeReport(dir)
    const html = readFileSync(file, 'utf8')
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=/)
    const data = readExperiment(dir)
    const ok = data.trials.filter((t) => t.status === 'ok')
    const expected = reportData(data.trials)
    expect(expected.byTrial).toHaveLength(ok.length)

    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    })
    try {
      const page = await browser.newPage()
      const errors: string[] = []
      const requests: string[] = []
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text())
      })
      page.on('pageerror', (e) => errors.push(e.message))
      page.on('request', (r) => {
        if (!r.url().startsWith('file:')) requests.push(r.url())
      })
      await page.goto(`file://${file}`)
      const charts = await page.evaluate(() => {
        const w = globalThis as unknown as {
          naskitCharts: Array<{
            getDom(): { id: string }
            getOption(): { series: Array<{ name: string; data: unknown[] }> }
          }>
        }
        return w.naskitCharts.map((c) => ({
          id: c.getDom().id,
          series: c.getOption().series.map((s) => ({ name: s.name, points: s.data.length })),
        }))
      })
      expect(errors).toEqual([])
      expect(requests).toEqual([])
      expect(charts).toEqual([
        {
          id: 'chart-trial',
          series: [
            { name: 'trial', points: ok.length },
            { name: 'best so far', points: ok.length },
          ],
        },
        {
          id: 'chart-time',
          series: [
            { name: 'trial', points: ok.length },
            { name: 'best so far', points: ok.length },
          ],
        },
        { id: 'chart-params', series: [{ name: 'params', points: ok.length }] },
        { id: 'chart-flops', series: [{ name: 'flops', points: ok.length }] },
      ])
      expect(await page.locator('#top-table tbody tr').count()).toBe(10)
      expect(await page.locator('svg.arch-graph').count()).toBe(5)
      expect(await page.locator('#failed-table tbody tr').count()).toBe(
        data.trials.length - ok.length,
      )
      const firstCanvas = await page.locator('#chart-trial canvas').count()
      expect(firstCanvas).toBeGreaterThan(0)
    } finally {
      await browser.close()
    }
  }, 60_000)

  it('draws chain-space architectures as layer chains', async () => {
    const dir = join(tmp(), 'exp')
    await runExperiment({
      out: dir,
      config: {
        space: chainSpace({ resolution: { low: 16, high: 32, step: 8 } }),
        evaluator: synthetic,
        budget: 5,
      },
    })
    const html = readFileSync(await writeReport(dir, { top: 3 }), 'utf8')
    expect(html.match(/class="arch-graph"/g)).toHaveLength(3)
    expect(html).toContain('layers (')
  })
})
