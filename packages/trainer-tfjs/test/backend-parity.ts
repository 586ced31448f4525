import * as tf from '@tensorflow/tfjs'
import { REFERENCE_CNN } from '../bench/reference.js'
import { selectBackend } from '../src/backend.js'
import { batches, loadMnist, splitDataset } from '../src/data/index.js'
import { buildNetwork } from '../src/models/index.js'
import type { Network } from '../src/models/network.js'
import { createOp, initContext, OP_NAMES } from '../src/ops/index.js'
import { createRng } from '../src/rng.js'
import { values } from './helpers.js'

/**
 * Runs the same computation on two backends and compares: shared by the tests of the
 * TensorFlow backend and of wasm on real images.
 */

export type Backend = 'cpu' | 'wasm' | 'tensorflow'

export async function use(backend: Backend): Promise<void> {
  await selectBackend({ backend, log: false })
}

/** Largest element-wise difference relative to the largest magnitude of the reference. */
export function scaledMaxError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY
  let diff = 0
  let scale = 1e-12
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!))
    scale = Math.max(scale, Math.abs(b[i]!))
  }
  return diff / scale
}

/** Named float arrays: an output and the gradients of a computation. */
export type Results = Record<string, Float32Array>

function l2(a: ArrayLike<number>): number {
  let n = 0
  for (let i = 0; i < a.length; i++) n += a[i]! ** 2
  return Math.sqrt(n)
}

/**
 * The worst of each array's errors against the reference, and which array it was.
 * `elements`: the largest element-wise difference relative to the array's largest magnitude.
 * `l2`: the relative L2 distance, where an array whose norm is under 1e-3 of the largest
 * norm among the arrays (a gradient that is zero but for rounding, such as the shift of a
 * batch norm whose output only feeds another batch norm) is measured against that floor.
 */
export function worst(
  got: Results,
  ref: Results,
  mode: 'elements' | 'l2' = 'elements',
): { name: string; error: number } {
  const floor = 1e-3 * Math.max(0, ...Object.values(ref).map(l2))
  const error = (a: Float32Array, b: Float32Array): number => {
    if (mode === 'elements') return scaledMaxError(a, b)
    if (a.length !== b.length) return Number.POSITIVE_INFINITY
    const d = new Float32Array(a.length)
    for (let i = 0; i < a.length; i++) d[i] = a[i]! - b[i]!
    return l2(d) / Math.max(l2(b), floor, 1e-30)
  }
  let out = { name: '', error: 0 }
  for (const name of Object.keys(ref)) {
    const e = got[name] === undefined ? Number.POSITIVE_INFINITY : error(got[name]!, ref[name]!)
    if (!(e <= out.error)) out = { name, error: e }
  }
  if (Object.keys(got).length !== Object.keys(ref).length)
    out = { name: 'a different set of arrays', error: Number.POSITIVE_INFINITY }
  return out
}

export interface OpCase {
  name: string
  cIn: number
  cOut: number
  stride: number
  size: number
  maxTokens?: number
}

/**
 * Every op of the library, keeping and changing the resolution, on even and odd sizes (a
 * stride-2 window with padding lines up with 'same' padding only on odd sizes).
 */
export function opCases(): OpCase[] {
  const cases: OpCase[] = []
  for (const name of OP_NAMES) {
    cases.push({ name, cIn: 4, cOut: 4, stride: 1, size: 8 })
    for (const size of [8, 7]) cases.push({ name, cIn: 4, cOut: 8, stride: 2, size })
    if (name.endsWith('pool_3x3'))
      for (const size of [8, 7]) cases.push({ name, cIn: 4, cOut: 4, stride: 2, size })
  }
  // attention over an average-pooled grid, without and with padded cells
  for (const size of [8, 7])
    cases.push({ name: 'attention', cIn: 4, cOut: 4, stride: 1, size, maxTokens: 16 })
  return cases
}

/** An op's output (eval and training mode) and the gradients of a projection of it. */
export function runOpCase(c: OpCase): Results {
  const op = createOp(
    c.name,
    { cIn: c.cIn, cOut: c.cOut, stride: c.stride, heads: 2, maxTokens: c.maxTokens },
    initContext(7),
  )
  const out: Results = {}
  tf.tidy(() => {
    const x = tf.tensor4d(values(2 * c.size * c.size * c.cIn, 11), [2, c.size, c.size, c.cIn])
    const y = op.apply(x, false)
    out.eval = y.dataSync().slice() as Float32Array
    const r = tf.tensor(values(y.size, 13), y.shape)
    const vars = op.trainableVariables()
    // the 0·Σx term keeps the input gradient defined for ops that ignore their input
    const f = (input: tf.Tensor) =>
      tf.add(tf.sum(tf.mul(op.apply(input as tf.Tensor4D, true), r)), tf.mul(tf.sum(input), 0))
    out.train = op.apply(x, true).dataSync().slice() as Float32Array
    out.dx = tf.grad(f)(x).dataSync().slice() as Float32Array
    if (vars.length > 0) {
      const { grads } = tf.variableGrads(() => f(x) as tf.Scalar, vars)
      vars.forEach((v, i) => {
        out[`d${i}`] = grads[v.name]!.dataSync().slice() as Float32Array
      })
    }
  })
  op.dispose()
  return out
}

/** A network's logits and the gradients of every variable under softmax cross-entropy. */
export function networkGradients(net: Network, xs: Float32Array, labels: Int32Array): Results {
  const out: Results = {}
  tf.tidy(() => {
    const x = tf.tensor4d(xs, [labels.length, ...net.inputShape])
    const onehot = tf.oneHot(tf.tensor1d(labels, 'int32'), net.numClasses)
    const vars = net.namedVariables().filter((v) => v.trainable)
    out.logits = net.apply(x, true).dataSync().slice() as Float32Array
    const { grads } = tf.variableGrads(
      () => tf.losses.softmaxCrossEntropy(onehot, net.apply(x, true)) as tf.Scalar,
      vars.map((v) => v.variable),
    )
    for (const v of vars) out[v.name] = grads[v.variable.name]!.dataSync().slice() as Float32Array
  })
  return out
}

/** The reference CNN of the benchmarks (stem 3×3/16, four ReLU-conv-BN blocks) at 28×28. */
export function referenceCnn(): Network {
  return buildNetwork(REFERENCE_CNN, {
    inputShape: [28, 28, 1],
    seed: 1,
    nasnet: { downsample: 1 },
  })
}

/** The first `count` shuffled training batches of MNIST (seeded), as plain arrays. */
export function mnistBatches(
  count: number,
  batchSize = 8,
): Array<{ xs: Float32Array; labels: Int32Array }> {
  const splits = splitDataset(loadMnist(), { validationSize: 5000, seed: 1 })
  const out: Array<{ xs: Float32Array; labels: Int32Array }> = []
  for (const b of batches(splits.train, { batchSize, rng: createRng(1) })) {
    out.push({
      xs: b.x.dataSync().slice() as Float32Array,
      labels: b.y.dataSync().slice() as Int32Array,
    })
    b.x.dispose()
    b.y.dispose()
    if (out.length === count) break
  }
  return out
}
