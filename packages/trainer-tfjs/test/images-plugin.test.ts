import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { chainSpace, isNaskitError, type Logger, validateOptions } from '@naskit/core'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { evaluators } from '../src/plugins.js'
import { useCpu, useWasm } from './helpers.js'

const root = mkdtempSync(path.join(tmpdir(), 'naskit-images-'))

/** Two classes a small network tells apart at once: bright top half, bright bottom half. */
async function makeFolder(dir: string, perClass: number) {
  for (const [k, name] of ['bottom', 'top'].entries()) {
    mkdirSync(path.join(dir, name), { recursive: true })
    for (let i = 0; i < perClass; i++) {
      const px = Buffer.alloc(12 * 12)
      for (let y = 0; y < 12; y++)
        for (let x = 0; x < 12; x++) {
          const lit = k === 1 ? y < 6 : y >= 6
          px[y * 12 + x] = lit ? 200 + ((i * 7 + x) % 50) : (i * 13 + x * 3) % 40
        }
      await sharp(px, { raw: { width: 12, height: 12, channels: 1 } })
        .toColourspace('b-w')
        .png()
        .toFile(path.join(dir, name, `${i}.png`))
    }
  }
}

const arch = {
  layers: [{ op: 'conv_3x3' }, { op: 'max_pool_3x3' }],
  width_multiplier: 1,
  resolution: 12,
}

async function create(options: Record<string, unknown>, log: Logger) {
  const plugin = evaluators.images!
  return await plugin.create({
    options: validateOptions(plugin.options, options, 'images'),
    space: chainSpace(),
    seed: 1,
    log,
  })
}

describe('the images evaluator', () => {
  beforeAll(async () => {
    await useWasm()
    await makeFolder(path.join(root, 'photos'), 20)
  })
  afterAll(async () => {
    await useCpu()
    rmSync(root, { recursive: true, force: true })
  })

  it('trains on a folder of class subfolders and says what it found', async () => {
    const infos: string[] = []
    const ev = await create(
      {
        dir: path.join(root, 'photos'),
        epochs: 10,
        batchSize: 8,
        baseChannels: 4,
        learningRate: 0.1,
      },
      { info: (m) => void infos.push(m), warn() {} },
    )
    const m = await ev.evaluate(arch as never, { trialId: 1, seed: 3 } as never)
    expect(infos.join('\n')).toMatch(
      /2 classes \(bottom, top\), 32 training and 8 test images of 12×12×1/,
    )
    expect(m.objective).toBeGreaterThan(0.8)
    expect(m.test_accuracy).not.toBeNull()
  }, 60_000)

  it('a missing folder fails at create, a bad one at its first trial, both with coded errors', async () => {
    let error: unknown
    try {
      await create({ dir: path.join(root, 'missing') }, { info() {}, warn() {} })
    } catch (e) {
      error = e
    }
    expect(isNaskitError(error, 'E_DATA_FOLDER')).toBe(true)
    mkdirSync(path.join(root, 'empty'))
    const ev = await create({ dir: path.join(root, 'empty') }, { info() {}, warn() {} })
    error = undefined
    try {
      await ev.evaluate(arch as never, { trialId: 1, seed: 3 } as never)
    } catch (e) {
      error = e
    }
    expect(isNaskitError(error, 'E_DATA_FOLDER')).toBe(true)
    await expect(create({}, { info() {}, warn() {} })).rejects.toMatchObject({
      code: 'E_BAD_OPTIONS',
      message: expect.stringContaining('--data'),
    })
  })
})
