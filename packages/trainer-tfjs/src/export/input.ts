import type { Dataset } from '../data/dataset.js'
import { NaskitError } from '../errors.js'

/**
 * How raw pixels become a network's input, as the trainer does it for a dataset: scale
 * (1/255 for byte images, 1 for float images), subtract the per-channel mean, divide by the
 * per-channel std, then resize (bilinear) when the evaluator's `resize` option is set. An
 * exported model holds these steps, so it takes raw pixel values.
 */
export interface InputPipeline {
  /** [height, width, channels] of the raw images the model takes. */
  shape: [number, number, number]
  /** Multiplier applied to the raw values first (1/255 for byte images). */
  scale: number
  /** Per-channel mean of the scaled values, subtracted. */
  mean: number[]
  /** Per-channel std of the scaled values, divided by. */
  std: number[]
  /** [height, width] the standardised images are resized to (bilinear), or null. */
  resize: [number, number] | null
}

/**
 * The input pipeline the trainer applies to a dataset's images (the default `standard`
 * normalisation of `batches`, plus the `resize` option).
 */
export function inputPipeline(dataset: Dataset, resize?: [number, number] | null): InputPipeline {
  const [h, w, c] = dataset.imageShape
  const bytes = dataset.train.images instanceof Uint8Array
  const mean = Array.from({ length: c }, (_, k) => dataset.stats?.mean[k] ?? 0)
  const std = Array.from({ length: c }, (_, k) => dataset.stats?.std[k] ?? 1)
  const keep = !resize || (resize[0] === h && resize[1] === w)
  return {
    shape: [h, w, c],
    scale: bytes ? 1 / 255 : 1,
    mean,
    std,
    resize: keep ? null : [resize[0], resize[1]],
  }
}

/** Checks a pipeline given from code; returns it. */
export function checkInputPipeline(p: InputPipeline): InputPipeline {
  const bad = (what: string) =>
    new NaskitError('E_BAD_OPTIONS', `input pipeline: ${what} (got ${JSON.stringify(p)})`)
  if (
    !Array.isArray(p?.shape) ||
    p.shape.length !== 3 ||
    !p.shape.every((v) => Number.isInteger(v) && v > 0)
  ) {
    throw bad('shape must be [height, width, channels] of positive integers')
  }
  const c = p.shape[2]
  if (!(Number.isFinite(p.scale) && p.scale !== 0)) throw bad('scale must be a non-zero number')
  if (!Array.isArray(p.mean) || p.mean.length !== c || !p.mean.every(Number.isFinite)) {
    throw bad(`mean must hold ${c} numbers, one per channel`)
  }
  if (!Array.isArray(p.std) || p.std.length !== c || !p.std.every((s) => s > 0)) {
    throw bad(`std must hold ${c} positive numbers, one per channel`)
  }
  if (
    p.resize !== null &&
    !(
      Array.isArray(p.resize) &&
      p.resize.length === 2 &&
      p.resize.every((v) => Number.isInteger(v) && v > 0)
    )
  ) {
    throw bad('resize must be [height, width] of positive integers, or null')
  }
  return p
}

/**
 * The weights of a bilinear resize along one axis (`tf.image.resizeBilinear` with
 * alignCorners and halfPixelCenters off, as the trainer resizes): a [from, to] matrix whose
 * column j mixes the one or two source positions of output j.
 */
export function bilinearMatrix(from: number, to: number): Float32Array {
  const m = new Float32Array(from * to)
  const ratio = from / to
  for (let j = 0; j < to; j++) {
    const src = j * ratio
    const lo = Math.floor(src)
    const hi = Math.min(Math.ceil(src), from - 1)
    const frac = src - lo
    m[lo * to + j] = (m[lo * to + j] as number) + (1 - frac)
    m[hi * to + j] = (m[hi * to + j] as number) + frac
  }
  return m
}
