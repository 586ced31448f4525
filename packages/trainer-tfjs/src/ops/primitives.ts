import * as tf from '@tensorflow/tfjs'
import { depthwiseFilterGrad, depthwiseInputGrad } from '../kernels/conv_grads.js'
import { addMacs, heNormal, type InitContext, Module, uniform } from './module.js'

/**
 * Keeps every s-th row and column (from the first), differentiably: a 1×1 average pool with
 * stride s, which is a fast native kernel both ways on every backend.
 */
export function subsample(x: tf.Tensor4D, s: number): tf.Tensor4D {
  if (s === 1) return x
  return tf.avgPool(x, 1, s, 'valid')
}

/**
 * The TensorFlow backends (tfjs-node and tfjs-node-gpu, both registered as `tensorflow`) take
 * only 'same' and 'valid' padding in their pooling kernels and convolution gradients, where
 * tfjs's own backends (cpu, wasm, webgl) also take a number.
 */
function onTensorflow(): boolean {
  return tf.getBackend() === 'tensorflow'
}

/**
 * Whether 'same' padding equals a symmetric padding `pad` for a window of effective size
 * 2·pad + 1 and stride s: it does when (size − 1) is a multiple of s on both axes (always at
 * stride 1); otherwise 'same' puts one padded row or column less before than after.
 */
function sameIsSymmetric(x: tf.Tensor4D, s: number): boolean {
  return (x.shape[1] - 1) % s === 0 && (x.shape[2] - 1) % s === 0
}

/**
 * The padding argument, and the input to use with it, for a convolution with symmetric
 * zero padding `pad` (window of effective size 2·pad + 1): 'valid' or 'same' where they are
 * exact, the number itself on tfjs's own backends, and an explicit zero padding of the input
 * followed by a 'valid' convolution on the TensorFlow backends.
 */
function convPadding(
  x: tf.Tensor4D,
  pad: number,
  s: number,
): [tf.Tensor4D, 'same' | 'valid' | number] {
  if (pad === 0) return [x, 'valid']
  if (sameIsSymmetric(x, s)) return [x, 'same']
  if (!onTensorflow()) return [x, pad]
  const padded = tf.pad(x, [
    [0, 0],
    [pad, pad],
    [pad, pad],
    [0, 0],
  ]) as tf.Tensor4D
  return [padded, 'valid']
}

/** tfjs takes an output-size rounding mode only along with a numeric padding. */
function rounding(padding: 'same' | 'valid' | number): 'floor' | undefined {
  return typeof padding === 'number' ? 'floor' : undefined
}

/**
 * k×k max pooling (k odd) with stride s and padding (k − 1) / 2, padded cells never chosen.
 * Where 'same' is not exact and the backend takes no numeric padding, it is the stride-1
 * 'same' pooling kept at every s-th position, which covers the same windows.
 */
export function maxPoolSymmetric(x: tf.Tensor4D, k: number, s: number): tf.Tensor4D {
  const pad = (k - 1) / 2
  if (pad === 0) return tf.maxPool(x, k, s, 'valid')
  if (sameIsSymmetric(x, s)) return tf.maxPool(x, k, s, 'same')
  if (!onTensorflow()) return tf.maxPool(x, k, s, pad, 'floor')
  return subsample(tf.maxPool(x, k, 1, 'same'), s)
}

/**
 * Per output position, how many input cells a k×k window with stride s covers, the input
 * being padded by `top` rows and `left` columns before it (and enough after it).
 */
function windowCounts(
  h: number,
  w: number,
  k: number,
  s: number,
  top: number,
  left: number,
  oh: number,
  ow: number,
): Float32Array {
  const span = (o: number, before: number, size: number) => {
    const start = o * s - before
    return Math.min(start + k, size) - Math.max(start, 0)
  }
  const out = new Float32Array(oh * ow)
  for (let i = 0; i < oh; i++) {
    const rows = span(i, top, h)
    for (let j = 0; j < ow; j++) out[i * ow + j] = rows * span(j, left, w)
  }
  return out
}

/**
 * k×k average pooling (stride s) of the input zero-padded by the given rows and columns, the
 * padded cells left out of each divisor: a 'valid' pooling of the padded input rescaled per
 * position, so its gradient is exact on every backend.
 */
function avgPoolPadded(
  x: tf.Tensor4D,
  k: number,
  s: number,
  [top, bottom, left, right]: [number, number, number, number],
): tf.Tensor4D {
  const [, h, w] = x.shape
  const padded = tf.pad(x, [
    [0, 0],
    [top, bottom],
    [left, right],
    [0, 0],
  ]) as tf.Tensor4D
  const y = tf.avgPool(padded, k, s, 'valid')
  const [, oh, ow] = y.shape
  const counts = windowCounts(h, w, k, s, top, left, oh, ow)
  for (let i = 0; i < counts.length; i++) counts[i] = (k * k) / counts[i]!
  return tf.mul(y, tf.tensor4d(counts, [1, oh, ow, 1]))
}

/**
 * k×k average pooling with stride k and 'same' padding, padded cells not counted, with the
 * gradient of that forward pass on every backend (the stock gradient of tfjs's own backends
 * divides by the full window at the padded border).
 */
export function avgPoolSameExcludePad(x: tf.Tensor4D, k: number): tf.Tensor4D {
  const [, h, w] = x.shape
  const padH = Math.ceil(h / k) * k - h
  const padW = Math.ceil(w / k) * k - w
  if (padH === 0 && padW === 0) return tf.avgPool(x, k, k, 'valid')
  const top = Math.floor(padH / 2)
  const left = Math.floor(padW / 2)
  return avgPoolPadded(x, k, k, [top, padH - top, left, padW - left])
}

const avgPoolCache = new Map<string, (x: tf.Tensor4D) => tf.Tensor4D>()

/**
 * k×k average pooling with zero padding `pad` in which padded cells are not counted (as
 * PyTorch's `count_include_pad=False`, which NAS-Bench-201 and DARTS use). The forward pass is
 * the backend's kernel; the gradient is explicit because the stock `AvgPool` gradient divides
 * by the full window everywhere, which disagrees with the forward pass near the borders.
 */
export function avgPoolExcludePad(x: tf.Tensor4D, k: number, s: number, pad: number): tf.Tensor4D {
  if (pad === 0) return tf.avgPool(x, k, s, 'valid')
  if (onTensorflow()) {
    if (2 * pad + 1 !== k) return avgPoolPadded(x, k, s, [pad, pad, pad, pad])
    // TensorFlow's 'same' average pooling leaves padded cells out of the divisor, and so does
    // its gradient: both are exact, at stride 1 and kept at every s-th position.
    if (sameIsSymmetric(x, s)) return tf.avgPool(x, k, s, 'same')
    return subsample(tf.avgPool(x, k, 1, 'same'), s)
  }
  const key = `${k}:${s}:${pad}`
  let f = avgPoolCache.get(key)
  if (f === undefined) {
    f = tf.customGrad((...args: unknown[]) => {
      const [input, save] = args as [tf.Tensor4D, tf.GradSaveFunc]
      save([input])
      const value = tf.avgPool(input, k, s, pad, 'floor')
      return {
        value,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [sx] = saved as [tf.Tensor4D]
          const [, h, w] = sx.shape
          const d = dy as tf.Tensor4D
          const counts = windowCounts(h, w, k, s, pad, pad, d.shape[1], d.shape[2])
          const scale = new Float32Array(counts.length)
          for (let i = 0; i < counts.length; i++) scale[i] = (k * k) / (counts[i] as number)
          return tf.tidy(() => {
            const scaled = tf.mul(d, tf.tensor4d(scale, [1, d.shape[1], d.shape[2], 1]))
            return tf
              .engine()
              .runKernel(
                'AvgPoolGrad',
                { dy: scaled, input: sx },
                { filterSize: k, strides: s, pad, dimRoundingMode: 'floor' },
              ) as tf.Tensor4D
          })
        },
      }
    }) as unknown as (x: tf.Tensor4D) => tf.Tensor4D
    avgPoolCache.set(key, f)
  }
  return f(x)
}

function outSize(inSize: number, k: number, stride: number, dilation: number): number {
  const pad = ((k - 1) * dilation) / 2
  return Math.floor((inSize + 2 * pad - (k - 1) * dilation - 1) / stride) + 1
}

const dilatedDepthwiseCache = new Map<string, (x: tf.Tensor4D, w: tf.Tensor4D) => tf.Tensor4D>()

/**
 * Stride-1 depthwise convolution with dilation > 1 and an explicit gradient: the built-in
 * tfjs gradient only supports dilation 1.
 */
function dilatedDepthwise(pad: number, dilation: number) {
  const key = `${pad}:${dilation}`
  let f = dilatedDepthwiseCache.get(key)
  if (f === undefined) {
    const op = tf.customGrad((...args: unknown[]) => {
      const [x, w, save] = args as [tf.Tensor4D, tf.Tensor4D, tf.GradSaveFunc]
      save([x, w])
      // at stride 1, 'same' is the symmetric padding `pad` (every backend takes it)
      const value = tf.depthwiseConv2d(x, w, 1, 'same', 'NHWC', dilation)
      return {
        value,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [sx, sw] = saved as [tf.Tensor4D, tf.Tensor4D]
          const d = dy as tf.Tensor4D
          return [
            depthwiseInputGrad(sx.shape, d, sw, 1, 'same', dilation),
            depthwiseFilterGrad(sx, d, sw.shape, 1, 'same', dilation),
          ]
        },
      }
    })
    f = (x, w) => op(x, w) as tf.Tensor4D
    dilatedDepthwiseCache.set(key, f)
  }
  return f
}

/** k×k convolution without bias, PyTorch-style symmetric padding (k odd). */
export class Conv2d extends Module {
  readonly weight: tf.Variable

  constructor(
    ctx: InitContext,
    readonly cIn: number,
    readonly cOut: number,
    readonly k: number,
    readonly stride = 1,
    readonly dilation = 1,
  ) {
    super()
    this.weight = this.addVariable('weight', heNormal(ctx, [k, k, cIn, cOut], k * k * cIn))
  }

  forward(x: tf.Tensor4D): tf.Tensor4D {
    const pad = ((this.k - 1) * this.dilation) / 2
    const w = this.weight as unknown as tf.Tensor4D
    const oh = outSize(x.shape[1], this.k, this.stride, this.dilation)
    const ow = outSize(x.shape[2], this.k, this.stride, this.dilation)
    addMacs(oh * ow * this.k * this.k * this.cIn * this.cOut * x.shape[0])
    if (this.k === 1 && this.stride > 1) {
      return tf.conv2d(subsample(x, this.stride), w, 1, 'valid')
    }
    if (this.dilation > 1 && this.stride > 1) {
      const y = tf.conv2d(x, w, 1, pad === 0 ? 'valid' : 'same', 'NHWC', this.dilation)
      return subsample(y, this.stride)
    }
    const [input, padding] = convPadding(x, pad, this.stride)
    return tf.conv2d(input, w, this.stride, padding, 'NHWC', this.dilation, rounding(padding))
  }
}

/** Depthwise k×k convolution (channel multiplier 1), any stride and dilation. */
export class DepthwiseConv2d extends Module {
  readonly weight: tf.Variable

  constructor(
    ctx: InitContext,
    readonly channels: number,
    readonly k: number,
    readonly stride = 1,
    readonly dilation = 1,
  ) {
    super()
    this.weight = this.addVariable('weight', heNormal(ctx, [k, k, channels, 1], k * k))
  }

  forward(x: tf.Tensor4D): tf.Tensor4D {
    const pad = ((this.k - 1) * this.dilation) / 2
    const w = this.weight as unknown as tf.Tensor4D
    const oh = outSize(x.shape[1], this.k, this.stride, this.dilation)
    const ow = outSize(x.shape[2], this.k, this.stride, this.dilation)
    addMacs(oh * ow * this.k * this.k * this.channels * x.shape[0])
    if (this.dilation === 1) {
      const [input, padding] = convPadding(x, pad, this.stride)
      return tf.depthwiseConv2d(input, w, this.stride, padding, 'NHWC', 1, rounding(padding))
    }
    const y = dilatedDepthwise(pad, this.dilation)(x, w)
    return subsample(y, this.stride)
  }
}

/** Below this many values per channel, one pass sums accurately enough. */
const STAGED_SUM_MIN = 2048

/**
 * Per-channel sum over N, H and W of an NHWC tensor. Large sums go in two stages (the values
 * as an [a, b, C] grid with a·b = N·H·W and a ≈ b: over b, then over a). wasm and TensorFlow
 * sum a channel in one float32 pass, which loses about 2e-5 relative precision over the
 * 6,272 values of a batch of eight 28×28 maps; batch-norm statistics that far off move
 * activations near zero to the other side of a ReLU, and each one that flips changes the
 * gradients of every layer below it by ~1/√size. Two stages bring the error to ~5e-7. The cpu
 * backend sums in double precision and keeps the single pass.
 */
function channelSum(x: tf.Tensor4D): tf.Tensor1D {
  const [n, h, w, c] = x.shape
  const m = n * h * w
  if (m < STAGED_SUM_MIN || tf.getBackend() === 'cpu') return tf.sum(x, [0, 1, 2]) as tf.Tensor1D
  let a = Math.floor(Math.sqrt(m))
  while (m % a !== 0) a--
  if (a === 1) return tf.sum(x, [0, 1, 2]) as tf.Tensor1D
  return tf.sum(tf.sum(tf.reshape(x, [a, m / a, c]), 1), 0) as tf.Tensor1D
}

export interface BatchNormOptions {
  affine?: boolean
  /** Weight of the new batch in the running averages (PyTorch convention, default 0.1). */
  momentum?: number
  epsilon?: number
}

/**
 * Batch normalisation over N, H, W with running statistics: batch statistics and an update
 * of the running averages in training mode, the running averages in evaluation mode.
 * `affine: false` drops the learned scale and shift (DARTS search uses this).
 *
 * The training-mode pass has an explicit gradient (the closed form
 * dx = γ/σ · (dy − mean(dy) − x̂ · mean(dy · x̂)), dγ = Σ dy · x̂, dβ = Σ dy), which takes a
 * third of the kernels that differentiating through the batch moments takes.
 *
 * Recalibration (as weight-sharing supernets need before evaluating a sub-network): set
 * `momentum` to `null` and `batchesTracked` to 0 (or call `resetRunningStats()`), then run a
 * few training batches: the running statistics become the exact cumulative average of the
 * batch statistics seen since (PyTorch's `momentum=None`); `recalibrateBatchNorms` does all
 * of it.
 */
export class BatchNorm extends Module {
  readonly gamma: tf.Variable | null
  readonly beta: tf.Variable | null
  readonly runningMean: tf.Variable
  readonly runningVar: tf.Variable
  /**
   * Weight of the new batch in the running averages; `null` gives the cumulative average
   * of every batch since `batchesTracked` was last 0 (the first such batch replaces the
   * statistics). May be changed between calls.
   */
  momentum: number | null
  readonly epsilon: number
  /** Training-mode batches seen since the last reset (set it to 0 to start an average). */
  batchesTracked = 0

  constructor(
    readonly channels: number,
    options: BatchNormOptions = {},
  ) {
    super()
    const affine = options.affine ?? true
    this.momentum = options.momentum ?? 0.1
    this.epsilon = options.epsilon ?? 1e-5
    this.gamma = affine ? this.addVariable('gamma', tf.ones([channels])) : null
    this.beta = affine ? this.addVariable('beta', tf.zeros([channels])) : null
    this.runningMean = this.addVariable('moving_mean', tf.zeros([channels]), false)
    this.runningVar = this.addVariable('moving_variance', tf.ones([channels]), false)
  }

  /** Running mean 0, running variance 1, no batch tracked (weights are kept). */
  resetRunningStats(): void {
    tf.tidy(() => {
      this.runningMean.assign(tf.zeros([this.channels]))
      this.runningVar.assign(tf.ones([this.channels]))
    })
    this.batchesTracked = 0
  }

  /** Folds one batch's statistics into the running averages (unbiased variance). */
  private track(mean: tf.Tensor, variance: tf.Tensor, count: number): void {
    this.batchesTracked++
    const m = this.momentum ?? 1 / this.batchesTracked
    const unbias = count > 1 ? count / (count - 1) : 1
    tf.tidy(() => {
      if (m === 1) {
        // the batch replaces the statistics (whatever they held, NaN included)
        this.runningMean.assign(mean)
        this.runningVar.assign(tf.mul(variance, unbias))
        return
      }
      this.runningMean.assign(tf.add(tf.mul(this.runningMean, 1 - m), tf.mul(mean, m)))
      this.runningVar.assign(tf.add(tf.mul(this.runningVar, 1 - m), tf.mul(variance, m * unbias)))
    })
  }

  forward(x: tf.Tensor4D, training: boolean): tf.Tensor4D {
    const scale = (this.gamma ?? undefined) as tf.Tensor1D | undefined
    const offset = (this.beta ?? undefined) as tf.Tensor1D | undefined
    if (!training) {
      const rm = this.runningMean as unknown as tf.Tensor1D
      const rv = this.runningVar as unknown as tf.Tensor1D
      return tf.batchNorm4d(x, rm, rv, offset, scale, this.epsilon)
    }
    const count = x.shape[0] * x.shape[1] * x.shape[2]
    // Normalises with the batch statistics and records them; runs inside the op, where
    // nothing is taped, and keeps x̂ (and γ) for the gradient.
    const normalise = (input: tf.Tensor4D, save: tf.GradSaveFunc) => {
      const mean = tf.div(channelSum(input), count)
      const centred = tf.sub(input, mean) as tf.Tensor4D
      const variance = tf.div(channelSum(tf.square(centred) as tf.Tensor4D), count)
      this.track(mean, variance, count)
      const invStd = tf.rsqrt(tf.add(variance, this.epsilon))
      const xhat = tf.mul(centred, invStd) as tf.Tensor4D
      save(scale ? [xhat, invStd, scale] : [xhat, invStd])
      return scale && offset ? (tf.add(tf.mul(xhat, scale), offset) as tf.Tensor4D) : xhat
    }
    const inputGrad = (dy: tf.Tensor4D, saved: tf.Tensor[]) => {
      const [xhat, invStd, gamma] = saved as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D | undefined]
      const sumDy = channelSum(dy)
      const sumDyXhat = channelSum(tf.mul(dy, xhat) as tf.Tensor4D)
      const k = gamma ? tf.mul(gamma, invStd) : invStd
      const centred = tf.sub(
        tf.sub(dy, tf.mul(xhat, tf.div(sumDyXhat, count))),
        tf.div(sumDy, count),
      )
      return { dx: tf.mul(centred, k) as tf.Tensor4D, sumDy, sumDyXhat }
    }
    if (scale && offset) {
      const op = tf.customGrad((...args: unknown[]) => {
        const [input, , , save] = args as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D, tf.GradSaveFunc]
        return {
          value: normalise(input, save),
          gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
            const g = inputGrad(dy as tf.Tensor4D, saved)
            return [g.dx, g.sumDyXhat, g.sumDy]
          },
        }
      })
      return op(x, scale, offset) as tf.Tensor4D
    }
    if (scale || offset) {
      // A batch norm has both affine parameters or neither.
      throw new Error('BatchNorm: gamma and beta must both be present or both absent')
    }
    const op = tf.customGrad((...args: unknown[]) => {
      const [input, save] = args as [tf.Tensor4D, tf.GradSaveFunc]
      return {
        value: normalise(input, save),
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [inputGrad(dy as tf.Tensor4D, saved).dx],
      }
    })
    return op(x) as tf.Tensor4D
  }
}

/** Every batch norm of a module tree, in a stable order. */
export function batchNorms(root: Module<tf.Tensor>): BatchNorm[] {
  const out: BatchNorm[] = []
  root.visit((m) => {
    if (m instanceof BatchNorm) out.push(m)
  })
  return out
}

/**
 * Recomputes the running statistics of batch norms from a few batches: `run(batch)` is called
 * for every batch, inside `tf.tidy` (it must apply the network in training mode), and the
 * running mean and variance of each batch norm it reaches become the exact averages of its
 * per-batch statistics (the old ones are forgotten). Batch norms that `run` does not reach
 * (off a weight-sharing supernet's path) keep their statistics. Weights do not change, and
 * each batch norm's momentum is restored afterwards. Returns the number of batches run.
 */
export function recalibrateBatchNorms<B>(
  bns: readonly BatchNorm[],
  batchList: Iterable<B>,
  run: (batch: B) => void,
): number {
  const saved = bns.map((bn) => bn.momentum)
  let n = 0
  try {
    for (const bn of bns) {
      bn.batchesTracked = 0
      bn.momentum = null
    }
    for (const b of batchList) {
      tf.tidy(() => run(b))
      n++
    }
  } finally {
    bns.forEach((bn, i) => {
      bn.momentum = saved[i]!
    })
  }
  return n
}

/** Fully connected layer with bias, applied to [N, features] through `linear()`. */
export class Linear extends Module<tf.Tensor2D> {
  readonly weight: tf.Variable
  readonly bias: tf.Variable

  constructor(
    ctx: InitContext,
    readonly inFeatures: number,
    readonly outFeatures: number,
  ) {
    super()
    const limit = 1 / Math.sqrt(inFeatures)
    this.weight = this.addVariable('kernel', uniform(ctx, [inFeatures, outFeatures], limit))
    this.bias = this.addVariable('bias', uniform(ctx, [outFeatures], limit))
  }

  /** Flattens an NHWC input and applies the layer. */
  forward(x: tf.Tensor4D): tf.Tensor2D {
    return this.linear(tf.reshape(x, [x.shape[0], -1]) as tf.Tensor2D)
  }

  linear(x: tf.Tensor2D): tf.Tensor2D {
    addMacs(x.shape[0] * (this.inFeatures * this.outFeatures + this.outFeatures))
    return tf.add(tf.matMul(x, this.weight as unknown as tf.Tensor2D), this.bias) as tf.Tensor2D
  }
}
