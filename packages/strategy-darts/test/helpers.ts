import * as tf from '@tensorflow/tfjs'
import { type Dataset, loadMnist, selectBackend } from '../src/trainer.js'

export async function useBackend(backend: 'cpu' | 'wasm'): Promise<void> {
  await selectBackend({ backend, log: false })
}

/** The first `n` MNIST training images and `m` test images, as a small dataset. */
export function mnistSubset(n: number, m = 0): Dataset {
  const full = loadMnist()
  const per = 28 * 28
  return {
    ...full,
    name: `mnist-${n}`,
    train: {
      images: full.train.images.subarray(0, n * per),
      labels: full.train.labels.subarray(0, n),
      count: n,
    },
    test: {
      images: full.test.images.subarray(0, m * per),
      labels: full.test.labels.subarray(0, m),
      count: m,
    },
  }
}

/** A deterministic batch of random images and labels. */
export function randomBatch(n: number, shape: [number, number, number], seed: number) {
  const size = n * shape[0] * shape[1] * shape[2]
  const data = new Float32Array(size)
  let s = seed >>> 0 || 1
  const next = () => {
    s ^= s << 13
    s ^= s >>> 17
    s ^= s << 5
    return (s >>> 0) / 4294967296
  }
  for (let i = 0; i < size; i++) data[i] = next() * 2 - 1
  const labels = Int32Array.from({ length: n }, () => Math.floor(next() * 10))
  return { x: tf.tensor4d(data, [n, ...shape]), y: tf.tensor1d(labels, 'int32') }
}
