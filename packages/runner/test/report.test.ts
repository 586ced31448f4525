import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { chainSpace, defineEvaluator } from '@naskit/core'
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

describe.skipIf(!haveChromium)('the report in a 1280 px window', () => {
  it('fits the width, keeps rows short, names the objective and formats the numbers', async () => {
    const tfjsLike = defineEvaluator({
      name: 'tfjs-like',
      description: 'metrics shaped as the TensorFlow.js evaluators report them',
      cost: 'cheap',
      options: {},
      create: () => ({
        name: 'tfjs-like',
        evaluate: (arch: unknown, ctx: { trialId: number }) => {
          const acc = ctx.trialId % 3 === 0 ? 1 : 0.9 - ctx.trialId / 100
          return {
            objective: acc,
            val_accuracy: acc,
            test_accuracy: acc - 0.01,
            params: 120_000 + ctx.trialId * 1234,
            flops: 4_481_930 + ctx.trialId,
            latency_ms: 3.5 + ctx.trialId / 10,
            train_time_ms: 18_070 + ctx.trialId,
            epochs: 1,
            arch_size: JSON.stringify(arch).length,
          }
        },
      }),
    })
    const dir = join(tmp(), 'exp')
    await runExperiment({
      out: dir,
      config: { space: chainSpace(), evaluator: tfjsLike, budget: 12, seed: 4 },
    })
    const file = await writeReport(dir)
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    })
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
      await page.goto(`file://${file}`)
      const layout = await page.evaluate(() => {
        type El = {
          textContent: string | null
          children: ArrayLike<{ textContent: string | null }>
          getBoundingClientRect(): { height: number }
        }
        const d = (
          globalThis as unknown as {
            document: {
              querySelectorAll(s: string): Iterable<El>
              querySelector(s: string): El | null
              documentElement: { scrollWidth: number }
            }
          }
        ).document
        const rows = [...d.querySelectorAll('#top-table tbody tr')].map(
          (r) => r.getBoundingClientRect().height,
        )
        const head = [...d.querySelectorAll('#top-table thead th')].map((h) => h.textContent)
        const objective = [...d.querySelectorAll('#top-table tbody tr')].map(
          (r) => r.children[2]?.textContent,
        )
        const timeColumn = head.indexOf('train_time_ms')
        const times = [...d.querySelectorAll('#top-table tbody tr')].map(
          (r) => r.children[timeColumn]?.textContent,
        )
        return {
          scrollWidth: d.documentElement.scrollWidth,
          rows,
          head,
          objective,
          times,
          setup: d.querySelector('#setup')?.textContent ?? '',
          latency: d.querySelector('#chart-latency canvas') !== null,
        }
      })
      expect(layout.scrollWidth).toBeLessThanOrEqual(1280)
      expect(layout.rows).toHaveLength(10)
      for (const h of layout.rows) expect(h).toBeLessThan(40)
      expect(layout.head).toContain('objective (val_accuracy)')
      expect(layout.head).not.toContain('val_accuracy')
      for (const v of layout.objective) expect(v).toMatch(/^\d\.\d{4}$/)
      for (const v of layout.times) expect(v).toBe('18s')
      expect(layout.setup).toContain('tfjs-like')
      expect(layout.setup).toContain('val_accuracy (higher is better)')
      expect(layout.latency).toBe(true)
      const axes = await page.evaluate(() =>
        (
          globalThis as unknown as {
            naskitCharts: Array<{
              getOption(): {
                xAxis: Array<{ minInterval?: number }>
                yAxis: Array<{ nameLocation?: string }>
              }
            }>
          }
        ).naskitCharts.map((c) => ({
          minInterval: c.getOption().xAxis[0]?.minInterval,
          yName: c.getOption().yAxis[0]?.nameLocation,
        })),
      )
      expect(axes[0]).toEqual({ minInterval: 1, yName: 'middle' })
    } finally {
      await browser.close()
    }
  }, 60_000)
})
