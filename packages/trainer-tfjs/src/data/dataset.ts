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
  /** The name of each class (label i is `classNames[i]`), where known. */
  classNames?: string[]
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
 * A seeded stratified split of `labels`: `head` takes round(fraction × count) images of each
 * class (at least one of a class that has two or more), in shuffled order; `rest` the others,
 * also shuffled. Classes keep their proportions in both parts.
 */
export function stratifiedOrder(
  labels: ArrayLike<number>,
  numClasses: number,
  fraction: number,
  rng: Rng,
  total?: number,
): { head: Uint32Array; rest: Uint32Array } {
  const n = labels.length
  const order = shuffleInPlace(range(n), rng)
  let k = Math.max(1, numClasses)
  for (let i = 0; i < n; i++) k = Math.max(k, labels[i]! + 1)
  const byClass: number[][] = Array.from({ length: k }, () => [])
  for (const i of order) byClass[labels[i]!]!.push(i)
  const want = total ?? Math.round(n * fraction)
  // per class: its share of `want`, by largest remainder so the total is exact
  const shares = byClass.map((idx) => (idx.length * want) / Math.max(1, n))
  const counts = shares.map((v) => Math.floor(v))
  let left = want - counts.reduce((a, b) => a + b, 0)
  const byRemainder = shares
    .map((v, k) => ({ k, r: v - Math.floor(v) }))
    .sort((a, b) => b.r - a.r || a.k - b.k)
  for (const { k } of byRemainder) {
    if (left <= 0) break
    if (counts[k]! < byClass[k]!.length) {
      counts[k]!++
      left--
    }
  }
  if (total === undefined && want > 0 && fraction > 0) {
    for (let k = 0; k < byClass.length; k++) {
      if (counts[k] === 0 && byClass[k]!.length >= 2) counts[k] = 1
    }
  }
  const inHead = new Uint8Array(n)
  byClass.forEach((idx, k) => {
    for (let j = 0; j < counts[k]!; j++) inHead[idx[j]!] = 1
  })
  const head: number[] = []
  const rest: number[] = []
  for (const i of order) (inHead[i] ? head : rest).push(i)
  return { head: Uint32Array.from(head), rest: Uint32Array.from(rest) }
}

/**
 * Splits a dataset into train / validation / test views: the validation images come from the
 * seeded, shuffled training set, stratified by class (each class keeps its share); subsets
 * are taken after shuffling so they stay balanced.
 */
export function splitDataset(dataset: Dataset, options: SplitOptions = {}): Splits {
  const rng = createRng(options.seed ?? 0)
  const n = dataset.train.count
  const nVal = options.validationSize ?? Math.round(n * (options.validationFraction ?? 0.1))
  if (!Number.isInteger(nVal) || nVal < 0 || nVal >= n) {
    throw new NaskitError(
      'E_BAD_OPTIONS',
      `validationSize ${nVal} must be an integer in [0, ${n - 1}] (the training set has ${n} images)`,
    )
  }
  const { head: validation, rest } = stratifiedOrder(
    dataset.train.labels,
    dataset.numClasses,
    n === 0 ? 0 : nVal / n,
    rng,
    nVal,
  )
  let train = rest
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
  /**
   * NHWC pixel values, bytes (0–255) or floats, `count × height × width × channels` long; or a
   * `[count, height, width, channels]` tensor (its values are copied; dispose it afterwards).
   */
  images: Uint8Array | Float32Array | tf.Tensor
  /** One integer class label per image, 0 … numClasses − 1 (or a 1-D tensor of them). */
  labels: Uint8Array | Int32Array | Uint16Array | number[] | tf.Tensor
  /** [height, width, channels] of one image (default: from a 4-D `images` tensor). */
  imageShape?: [number, number, number]
  /** Default: the largest label + 1 (or `classNames.length`). */
  numClasses?: number
  /** The name of each class, in label order. */
  classNames?: string[]
  /** A test set, laid out as `images` / `labels`. */
  testImages?: Uint8Array | Float32Array | tf.Tensor
  testLabels?: Uint8Array | Int32Array | Uint16Array | number[] | tf.Tensor
  /**
   * Without test arrays: hold out this fraction of each class as the test set (stratified,
   * seeded by `seed`; default 0: no test set, so no test accuracy is measured).
   */
  testFraction?: number
  seed?: number
}

type ArrayInput = Omit<ArrayDatasetInput, 'images' | 'labels' | 'testImages' | 'testLabels'> & {
  images: Uint8Array | Float32Array
  labels: Uint8Array | Int32Array | Uint16Array | number[]
  testImages?: Uint8Array | Float32Array
  testLabels?: Uint8Array | Int32Array | Uint16Array | number[]
}

/** Tensors of an input become typed arrays; a 4-D images tensor gives the image shape. */
function fromTensors(input: ArrayDatasetInput): ArrayInput {
  const isTensor = (v: unknown): v is tf.Tensor => v instanceof tf.Tensor
  const pixels = (v: tf.Tensor, name: string) => {
    if (v.rank !== 4)
      throw new NaskitError(
        'E_DATASET',
        `${name} as a tensor must be [count, height, width, channels], got shape [${v.shape.join(', ')}]`,
      )
    return v.dtype === 'int32' ? Float32Array.from(v.dataSync()) : (v.dataSync() as Float32Array)
  }
  const labelValues = (v: tf.Tensor, name: string) => {
    if (v.rank !== 1)
      throw new NaskitError('E_DATASET', `${name} as a tensor must be 1-D, got rank ${v.rank}`)
    return Int32Array.from(v.dataSync())
  }
  const { images, labels, testImages, testLabels, ...rest } = input
  const imageShape =
    input.imageShape ??
    (isTensor(images) && images.rank === 4
      ? (images.shape.slice(1) as [number, number, number])
      : undefined)
  const out: ArrayInput = {
    ...rest,
    imageShape: imageShape as [number, number, number],
    images: isTensor(images) ? pixels(images, 'images') : images,
    labels: isTensor(labels) ? labelValues(labels, 'labels') : labels,
  }
  if (testImages !== undefined)
    out.testImages = isTensor(testImages) ? pixels(testImages, 'testImages') : testImages
  if (testLabels !== undefined)
    out.testLabels = isTensor(testLabels) ? labelValues(testLabels, 'testLabels') : testLabels
  return out
}

/**
 * Wraps user data given as typed arrays (no pixel is copied unless a test set is carved out).
 *
 * ```ts
 * const ds = datasetFromArrays({ images, labels, imageShape: [32, 32, 3], testFraction: 0.2 })
 * ```
 */
export function datasetFromArrays(given: ArrayDatasetInput): Dataset {
  const input = fromTensors(given)
  const shape = input.imageShape
  if (
    !Array.isArray(shape) ||
    shape.length !== 3 ||
    !shape.every((v) => Number.isInteger(v) && v >= 1)
  ) {
    throw new NaskitError(
      'E_DATASET',
      `imageShape must be [height, width, channels] (positive integers; or give images as a [count, height, width, channels] tensor), got ${JSON.stringify(shape)}`,
    )
  }
  if (!(input.images instanceof Uint8Array || input.images instanceof Float32Array)) {
    throw new NaskitError('E_DATASET', 'images must be a Uint8Array (0–255) or a Float32Array')
  }
  const per = shape.reduce((a, b) => a * b, 1)
  const toLabels = (l: ArrayInput['labels']) => (Array.isArray(l) ? Int32Array.from(l) : l)
  let labels = toLabels(input.labels)
  let count = labels.length
  if (input.images.length !== count * per) {
    throw new NaskitError(
      'E_DATASET',
      `images has ${input.images.length} values; expected ${count} labels × ${per} values per image`,
    )
  }
  let maxLabel = 0
  for (const l of labels) {
    if (!Number.isInteger(l) || l < 0)
      throw new NaskitError('E_DATASET', `labels must be integers ≥ 0, found ${l}`)
    maxLabel = Math.max(maxLabel, l)
  }
  const numClasses = input.numClasses ?? input.classNames?.length ?? maxLabel + 1
  if (maxLabel >= numClasses) {
    throw new NaskitError(
      'E_DATASET',
      `label ${maxLabel} is out of range for ${numClasses} classes`,
    )
  }
  let images = input.images
  let testLabels = input.testLabels ? toLabels(input.testLabels) : new Int32Array(0)
  let testImages = input.testImages ?? new Float32Array(0)
  if (testImages.length !== testLabels.length * per) {
    throw new NaskitError('E_DATASET', 'testImages and testLabels sizes disagree')
  }
  const testFraction = input.testFraction ?? 0
  if (!(testFraction >= 0 && testFraction < 1)) {
    throw new NaskitError('E_DATASET', `testFraction must be in [0, 1), got ${testFraction}`)
  }
  if (testFraction > 0) {
    if (input.testLabels) {
      throw new NaskitError('E_DATASET', 'give either test arrays or testFraction, not both')
    }
    const { head, rest } = stratifiedOrder(
      labels,
      numClasses,
      testFraction,
      createRng(input.seed ?? 0),
    )
    const take = (idx: Uint32Array) => {
      const sorted = [...idx].sort((a, b) => a - b)
      const im = new (images.constructor as Uint8ArrayConstructor)(sorted.length * per)
      const lb = new Int32Array(sorted.length)
      sorted.forEach((src, j) => {
        im.set(images.subarray(src * per, (src + 1) * per), j * per)
        lb[j] = labels[src]!
      })
      return { im: im as Uint8Array | Float32Array, lb }
    }
    const t = take(head)
    const r = take(rest)
    testImages = t.im
    testLabels = t.lb
    images = r.im
    labels = r.lb
    count = r.lb.length
  }
  const train = { images, labels, count }
  return {
    name: input.name ?? 'arrays',
    numClasses,
    ...(input.classNames ? { classNames: input.classNames } : {}),
    imageShape: shape,
    train,
    test: { images: testImages, labels: testLabels, count: testLabels.length },
    stats: computeStats(train, shape),
  }
}
