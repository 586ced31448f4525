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

/** Per output position, how many input cells a k×k window (stride s, padding pad) covers. */
function windowCounts(h: number, w: number, k: number, s: number, pad: number): Float32Array {
  const oh = Math.floor((h + 2 * pad - k) / s) + 1
  const ow = Math.floor((w + 2 * pad - k) / s) + 1
  const span = (o: number, size: number) => {
    const start = o * s - pad
    return Math.min(start + k, size) - Math.max(start, 0)
  }
  const out = new Float32Array(oh * ow)
  for (let i = 0; i < oh; i++) {
    const rows = span(i, h)
    for (let j = 0; j < ow; j++) out[i * ow + j] = rows * span(j, w)
  }
  return out
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
          const counts = windowCounts(h, w, k, s, pad)
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
      const value = tf.depthwiseConv2d(x, w, 1, pad, 'NHWC', dilation, 'floor')
      return {
        value,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [sx, sw] = saved as [tf.Tensor4D, tf.Tensor4D]
          const d = dy as tf.Tensor4D
          return [
            depthwiseInputGrad(sx.shape, d, sw, 1, pad, dilation, 'floor'),
            depthwiseFilterGrad(sx, d, sw.shape, 1, pad, dilation, 'floor'),
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
      return tf.conv2d(subsample(x, this.stride), w, 1, 0)
    }
    if (this.dilation > 1 && this.stride > 1) {
      const y = tf.conv2d(x, w, 1, pad, 'NHWC', this.dilation, 'floor')
      return subsample(y, this.stride)
    }
    return tf.conv2d(x, w, this.stride, pad, 'NHWC', this.dilation, 'floor')
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
      return tf.depthwiseConv2d(x, w, this.stride, pad, 'NHWC', 1, 'floor')
    }
    const y = dilatedDepthwise(pad, this.dilation)(x, w)
    return subsample(y, this.stride)
  }
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
      const { mean, variance } = tf.moments(input, [0, 1, 2])
      this.track(mean, variance, count)
      const invStd = tf.rsqrt(tf.add(variance, this.epsilon))
      const xhat = tf.mul(tf.sub(input, mean), invStd) as tf.Tensor4D
      save(scale ? [xhat, invStd, scale] : [xhat, invStd])
      return scale && offset ? (tf.add(tf.mul(xhat, scale), offset) as tf.Tensor4D) : xhat
    }
    const inputGrad = (dy: tf.Tensor4D, saved: tf.Tensor[]) => {
      const [xhat, invStd, gamma] = saved as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D | undefined]
      const sumDy = tf.sum(dy, [0, 1, 2])
      const sumDyXhat = tf.sum(tf.mul(dy, xhat), [0, 1, 2])
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
