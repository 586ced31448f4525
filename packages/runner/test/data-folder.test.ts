import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runCli } from '../src/index'
import { Store } from '../src/store'
import type { StoredConfig } from '../src/types'
import { captureIo, loadSharp, tmp } from './helpers'

const sharp = loadSharp()

/** Two classes told apart by which half of a 12×12 image is bright. */
async function photos(root: string, perClass = 10): Promise<string> {
  const dir = join(root, 'photos')
  for (const [k, name] of ['bottom', 'top'].entries()) {
    mkdirSync(join(dir, name), { recursive: true })
    for (let i = 0; i < perClass; i++) {
      const px = Buffer.alloc(144)
      for (let p = 0; p < 144; p++) {
        const y = Math.floor(p / 12)
        px[p] = (k === 1 ? y < 6 : y >= 6) ? 200 + ((i * 5 + p) % 50) : (i * 7 + p) % 40
      }
      await sharp(px, { raw: { width: 12, height: 12, channels: 1 } })
        .toColourspace('b-w')
        .png()
        .toFile(join(dir, name, `${i}.png`))
    }
  }
  return dir
}

const quick = JSON.stringify({ epochs: 1, batchSize: 8, baseChannels: 4, backend: 'wasm' })

describe('naskit search --data', () => {
  it('searches on a folder of class subfolders, storing the absolute folder to resume from anywhere', async () => {
    const root = tmp()
    await photos(root)
    const c = captureIo(root)
    const code = await runCli(
      [
        'search',
        '--data',
        'photos',
        '--budget',
        '2',
        '--evaluator-options',
        quick,
        '--executor',
        'inline',
        '--out',
        'exp',
        '--quiet',
      ],
      c.io,
    )
    expect(c.err.join(''), c.err.join('')).not.toContain('error')
    expect(code).toBe(0)
    const store = Store.open(join(root, 'exp'), { readonly: true })
    try {
      const config = store.getMeta<StoredConfig>('config')!
      expect(config.evaluator.name).toBe('images')
      expect((config.evaluator.options as { dir: string }).dir).toBe(join(root, 'photos'))
      expect(config.space.name).toBe('chain')
      const trials = store.trials()
      expect(trials).toHaveLength(2)
      expect(trials.every((t) => t.status === 'ok')).toBe(true)
    } finally {
      store.close()
    }
    expect(c.err.join('')).toMatch(/2 classes \(bottom, top\)/)
  }, 120_000)

  it('refuses --data with another evaluator, and a missing folder, with coded errors', async () => {
    const root = tmp()
    const c = captureIo(root)
    expect(
      await runCli(['search', '--data', 'photos', '--evaluator', 'mnist', '--out', 'a'], c.io),
    ).not.toBe(0)
    expect(c.err.join('')).toContain('E_BAD_CONFIG')
    expect(c.err.join('')).toContain('"images" evaluator')
    const d = captureIo(root)
    expect(await runCli(['search', '--data', 'nowhere', '--out', 'b'], d.io)).not.toBe(0)
    expect(d.err.join('')).toContain('E_DATA_FOLDER')
  })

  it('DARTS searches on the folder, not on MNIST', async () => {
    const root = tmp()
    await photos(root, 16)
    const c = captureIo(root)
    const code = await runCli(
      [
        'search',
        '--data',
        'photos',
        '--space',
        'nb201',
        '--strategy',
        'darts',
        '--strategy-options',
        JSON.stringify({
          epochs: 1,
          trainSize: 16,
          batchSize: 8,
          channels: 2,
          layers: 1,
          resolution: 12,
          backend: 'wasm',
        }),
        '--evaluator-options',
        JSON.stringify({ epochs: 1, batchSize: 8, baseChannels: 2, backend: 'wasm' }),
        '--executor',
        'inline',
        '--out',
        'exp',
      ],
      c.io,
    )
    const err = c.err.join('')
    expect(code, err).toBe(0)
    expect(err).toMatch(/darts: searching on photos \(\d+ training images of 12×12×1, 2 classes\)/)
  }, 240_000)
})
