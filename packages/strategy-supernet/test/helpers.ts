import type * as tf from '@tensorflow/tfjs'
import {
  datasetFromArrays,
  loadMnist,
  selectBackend,
  type Splits,
  splitDataset,
} from '../src/trainer'

let ready: Promise<unknown> | null = null

/** The wasm backend (fast convolutions), selected once per test file. */
export function useBackend(): Promise<unknown> {
  ready ??= selectBackend({ backend: 'wasm', log: false })
  return ready
}

/** A small seeded MNIST subset. */
export function mnistSubset(train = 128, validation = 64, test = 64): Splits {
  return splitDataset(loadMnist(), {
    trainSize: train,
    validationSize: validation,
    testSize: test,
    seed: 3,
  })
}

/** Copies of every variable's values, by name. */
export function snapshot(vars: Array<{ name: string; variable: tf.Variable }>) {
  return new Map(vars.map((v) => [v.name, v.variable.dataSync().slice() as Float32Array]))
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)))
  return m
}

export const RES = 8
export const RESIZE: [number, number] = [RES, RES]

/**
 * An easy seeded task for learning checks: 8×8 noise images with one bright shape at a
 * random place; the label is the shape (horizontal bar, vertical bar, diagonal, none).
 */
export function shapesData(count = 384): Splits {
  const images = new Uint8Array(count * 64)
  const labels = new Uint8Array(count)
  let s = 12345
  const rnd = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0
    return s / 4294967296
  }
  for (let i = 0; i < count; i++) {
    const k = i % 4
    labels[i] = k
    const img = images.subarray(i * 64, (i + 1) * 64)
    for (let p = 0; p < 64; p++) img[p] = Math.floor(rnd() * 60)
    const r = Math.floor(rnd() * 4)
    const c = Math.floor(rnd() * 4)
    for (let t = 0; t < 4; t++) {
      if (k === 0) img[(r + 2) * 8 + c + t] = 255
      else if (k === 1) img[(r + t) * 8 + c + 2] = 255
      else if (k === 2) img[(r + t) * 8 + c + t] = 255
    }
  }
  return splitDataset(datasetFromArrays({ images, labels, imageShape: [8, 8, 1] }), {
    validationSize: 128,
    seed: 1,
  })
}
