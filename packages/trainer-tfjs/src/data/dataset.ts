import * as tf from '@tensorflow/tfjs'
import { NaskitError } from '../errors.js'
import { createRng, type Rng, shuffleInPlace } from '../rng.js'

/** Images stored once, NHWC, as bytes (0–255) or floats, with integer class labels. */
export interface ImageSet {
  images: Uint8Array | Float32Array
  labels: Uint8Array | Int32Array | Uint16Array
  count: number
}

export interface Dataset {
  name: string
  numClasses: number
  /** [height, width, channels] of one image. */
  imageShape: [number, number, number]
  train: ImageSet
  /** Held-out test images (may be empty for user data). */
  test: ImageSet
  /** Per-channel mean and std of the pixel values scaled to [0, 1]. */
  stats?: { mean: number[]; std: number[] }
}

/** A subset of an image set, by index (no pixel is copied). */
export interface SplitView {
  set: ImageSet
  indices: Uint32Array
  dataset: Dataset
}

export interface Splits {
  train: SplitView
  validation: SplitView
  test: SplitView
}

export interface SplitOptions {
  /** Images moved from the training set into the validation set (default 10% of it). */
  validationSize?: number
  validationFraction?: number
  /** Keep only this many training / test images (after the validation split). */
  trainSize?: number
  testSize?: number
  /** Fraction of the training subset to use (a trial's data-fraction fidelity). */
  dataFraction?: number
  seed?: number
}

function range(n: number): Uint32Array {
  const a = new Uint32Array(n)
  for (let i = 0; i < n; i++) a[i] = i
  return a
}

/**
 * Splits a dataset into train / validation / test views: the validation images come from the
 * (seeded, shuffled) training set; subsets are taken after shuffling so they stay balanced.
 */
export function splitDataset(dataset: Dataset, options: SplitOptions = {}): Splits {
  const rng = createRng(options.seed ?? 0)
  const n = dataset.train.count
  const order = shuffleInPlace(range(n), rng)
  const nVal = options.validationSize ?? Math.round(n * (options.validationFraction ?? 0.1))
  if (nVal < 0 || nVal >= n) {
    throw new NaskitError('E_BAD_OPTIONS', `validationSize ${nVal} must be in [0, ${n - 1}]`)
  }
  const validation = order.slice(0, nVal)
  let train = order.slice(nVal)
  if (options.trainSize !== undefined)
    train = train.slice(0, Math.min(options.trainSize, train.length))
  if (options.dataFraction !== undefined) {
    if (!(options.dataFraction > 0 && options.dataFraction <= 1)) {
      throw new NaskitError('E_BAD_OPTIONS', 'dataFraction must be in (0, 1]')
    }
    train = train.slice(0, Math.max(1, Math.round(train.length * options.dataFraction)))
  }
  let test = range(dataset.test.count)
  if (options.testSize !== undefined && options.testSize < test.length) {
    test = shuffleInPlace(test, createRng((options.seed ?? 0) + 1)).slice(0, options.testSize)
  }
  return {
    train: { set: dataset.train, indices: train, dataset },
    validation: { set: dataset.train, indices: validation, dataset },
    test: { set: dataset.test, indices: test, dataset },
  }
}

export interface BatchOptions {
  batchSize: number
  /** Shuffle the order each time `batches` is called (seeded). */
  rng?: Rng
  /** Resize images to [height, width] (bilinear). */
  resize?: [number, number]
  /**
   * `'standard'` (default): scale to [0, 1] then subtract the dataset mean and divide by its
   * std; `'unit'`: scale to [0, 1] only; `'none'`: raw values.
   */
  normalize?: 'standard' | 'unit' | 'none'
  /** Drop the last incomplete batch (default false). */
  dropLast?: boolean
}

export interface Batch {
  x: tf.Tensor4D
  y: tf.Tensor1D
  size: number
}

/**
 * Streams batches from a view: each batch copies only its own images into a fresh buffer
 * (normalising on the way) and becomes two tensors that the caller disposes.
 */
export function* batches(view: SplitView, options: BatchOptions): Generator<Batch> {
  const { dataset } = view
  const [h, w, c] = dataset.imageShape
  const per = h * w * c
  const order = options.rng ? shuffleInPlace(view.indices.slice(), options.rng) : view.indices
  const mode = options.normalize ?? 'standard'
  const bytes = view.set.images instanceof Uint8Array
  const scale = mode === 'none' || !bytes ? 1 : 1 / 255
  const mean = new Float32Array(c)
  const inv = new Float32Array(c).fill(1)
  if (mode === 'standard' && dataset.stats) {
    for (let k = 0; k < c; k++) {
      mean[k] = dataset.stats.mean[k] ?? 0
      inv[k] = 1 / (dataset.stats.std[k] ?? 1)
    }
  }
  // Byte images go through one 256-entry lookup table per channel.
  const images = view.set.images
  const luts = bytes
    ? Array.from({ length: c }, (_, k) =>
        Float32Array.from({ length: 256 }, (_, v) => (v * scale - mean[k]!) * inv[k]!),
      )
    : null
  const bs = options.batchSize
  for (let start = 0; start < order.length; start += bs) {
    const size = Math.min(bs, order.length - start)
    if (size < bs && options.dropLast) break
    const xs = new Float32Array(size * per)
    const ys = new Int32Array(size)
    for (let b = 0; b < size; b++) {
      const idx = order[start + b]!
      const src = idx * per
      const dst = b * per
      if (luts !== null && c === 1) {
        const lut = luts[0]!
        for (let p = 0; p < per; p++) xs[dst + p] = lut[images[src + p]!]!
      } else if (luts !== null) {
        for (let p = 0; p < per; p++) xs[dst + p] = luts[p % c]![images[src + p]!]!
      } else {
        for (let p = 0; p < per; p++) {
          const k = p % c
          xs[dst + p] = (images[src + p]! * scale - mean[k]!) * inv[k]!
        }
      }
      ys[b] = view.set.labels[idx]!
    }
    let x = tf.tensor4d(xs, [size, h, w, c])
    if (options.resize && (options.resize[0] !== h || options.resize[1] !== w)) {
      const r = tf.image.resizeBilinear(x, options.resize)
      x.dispose()
      x = r
    }
    yield { x, y: tf.tensor1d(ys, 'int32'), size }
  }
}

/** Computes per-channel mean/std (of values scaled to [0, 1]) over at most `limit` images. */
export function computeStats(set: ImageSet, shape: [number, number, number], limit = 10000) {
  const [h, w, c] = shape
  const per = h * w * c
  const n = Math.min(set.count, limit)
  const scale = set.images instanceof Uint8Array ? 1 / 255 : 1
  const sum = new Float64Array(c)
  const sq = new Float64Array(c)
  for (let i = 0; i < n * per; i++) {
    const v = set.images[i]! * scale
    const k = i % c
    sum[k] = sum[k]! + v
    sq[k] = sq[k]! + v * v
  }
  const count = n * h * w
  const mean = Array.from(sum, (s) => s / count)
  const std = Array.from(sq, (s, k) => Math.sqrt(Math.max(s / count - mean[k]! ** 2, 1e-12)))
  return { mean, std }
}

export interface ArrayDatasetInput {
  name?: string
  /** NHWC pixel values, bytes (0–255) or floats. */
  images: Uint8Array | Float32Array
  labels: Uint8Array | Int32Array | Uint16Array | number[]
  imageShape: [number, number, number]
  numClasses?: number
  testImages?: Uint8Array | Float32Array
  testLabels?: Uint8Array | Int32Array | Uint16Array | number[]
}

/** Wraps user data given as typed arrays. */
export function datasetFromArrays(input: ArrayDatasetInput): Dataset {
  const per = input.imageShape.reduce((a, b) => a * b, 1)
  const toLabels = (l: ArrayDatasetInput['labels']) => (Array.isArray(l) ? Int32Array.from(l) : l)
  const labels = toLabels(input.labels)
  const count = labels.length
  if (input.images.length !== count * per) {
    throw new NaskitError(
      'E_DATASET',
      `images has ${input.images.length} values; expected ${count} labels × ${per} values per image`,
    )
  }
  const testLabels = input.testLabels ? toLabels(input.testLabels) : new Int32Array(0)
  const testImages = input.testImages ?? new Float32Array(0)
  if (testImages.length !== testLabels.length * per) {
    throw new NaskitError('E_DATASET', 'testImages and testLabels sizes disagree')
  }
  let maxLabel = 0
  for (const l of labels) maxLabel = Math.max(maxLabel, l)
  const train = { images: input.images, labels, count }
  return {
    name: input.name ?? 'arrays',
    numClasses: input.numClasses ?? maxLabel + 1,
    imageShape: input.imageShape,
    train,
    test: { images: testImages, labels: testLabels, count: testLabels.length },
    stats: computeStats(train, input.imageShape),
  }
}
