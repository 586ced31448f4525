import * as tf from '@tensorflow/tfjs'

/** A non-trainable variable of zeros shaped like `v` (the temporary tensor is released). */
function zerosVariable(v: tf.Tensor): tf.Variable {
  const z = tf.zerosLike(v)
  const out = tf.variable(z, false)
  z.dispose()
  return out
}

/**
 * SGD with momentum and L2 weight decay, as PyTorch defines it (dampening 0, no Nesterov):
 * buf ← μ·buf + (g + λ·w); w ← w − lr·buf. Its buffers are plain variables so that a
 * checkpoint can save and restore them.
 */
export class MomentumSgd {
  readonly buffers: tf.Variable[]
  readonly momentum: number
  readonly weightDecay: number
  lr: number

  constructor(
    readonly vars: tf.Variable[],
    options: { lr: number; momentum: number; weightDecay: number },
  ) {
    this.lr = options.lr
    this.momentum = options.momentum
    this.weightDecay = options.weightDecay
    this.buffers = vars.map(zerosVariable)
  }

  /** The gradient with weight decay added: g + λ·w. */
  decayed(g: tf.Tensor, i: number): tf.Tensor {
    return this.weightDecay > 0 ? tf.add(g, tf.mul(this.vars[i]!, this.weightDecay)) : g
  }

  /** One update; a missing gradient (an op no path reached) leaves that variable alone. */
  step(grads: Array<tf.Tensor | undefined>): void {
    tf.tidy(() => {
      grads.forEach((g, i) => {
        if (g === undefined) return
        const buf = this.buffers[i]!
        const nb = tf.add(tf.mul(buf, this.momentum), this.decayed(g, i))
        buf.assign(nb)
        this.vars[i]!.assign(tf.sub(this.vars[i]!, tf.mul(nb, this.lr)))
      })
    })
  }

  dispose(): void {
    for (const b of this.buffers) b.dispose()
  }
}

/**
 * Adam with L2 weight decay added to the gradient (PyTorch's `Adam(weight_decay=…)`), with
 * bias correction. Moments are variables, the step count a number: all checkpointable.
 */
export class Adam {
  readonly m: tf.Variable[]
  readonly v: tf.Variable[]
  t = 0

  constructor(
    readonly vars: tf.Variable[],
    readonly options: {
      lr: number
      beta1: number
      beta2: number
      weightDecay: number
      epsilon?: number
    },
  ) {
    this.m = vars.map(zerosVariable)
    this.v = vars.map(zerosVariable)
  }

  step(grads: tf.Tensor[]): void {
    this.t++
    const { lr, beta1, beta2, weightDecay } = this.options
    const eps = this.options.epsilon ?? 1e-8
    const c1 = 1 - beta1 ** this.t
    const c2 = 1 - beta2 ** this.t
    tf.tidy(() => {
      grads.forEach((g0, i) => {
        const p = this.vars[i]!
        const g = weightDecay > 0 ? tf.add(g0, tf.mul(p, weightDecay)) : g0
        const m = tf.add(tf.mul(this.m[i]!, beta1), tf.mul(g, 1 - beta1))
        const v = tf.add(tf.mul(this.v[i]!, beta2), tf.mul(tf.square(g), 1 - beta2))
        this.m[i]!.assign(m)
        this.v[i]!.assign(v)
        const update = tf.div(tf.div(m, c1), tf.add(tf.sqrt(tf.div(v, c2)), eps))
        p.assign(tf.sub(p, tf.mul(update, lr)))
      })
    })
  }

  dispose(): void {
    for (const x of [...this.m, ...this.v]) x.dispose()
  }
}

/** Scales gradients so that their global L2 norm is at most `maxNorm` (0 turns it off). */
export function clipByGlobalNorm(
  grads: Array<tf.Tensor | undefined>,
  maxNorm: number,
): Array<tf.Tensor | undefined> {
  const present = grads.filter((g): g is tf.Tensor => g !== undefined)
  if (maxNorm <= 0 || present.length === 0) return grads
  const norm = tf.sqrt(tf.addN(present.map((g) => tf.sum(tf.square(g)))))
  const factor = tf.minimum(1, tf.div(maxNorm, tf.add(norm, 1e-6)))
  return grads.map((g) => (g === undefined ? undefined : tf.mul(g, factor)))
}

/** DARTS's cosine annealing per epoch: lr(e) = min + (max − min)(1 + cos(π e / E)) / 2. */
export function cosineLr(max: number, min: number, epoch: number, epochs: number): number {
  if (epochs <= 0) return max
  return min + ((max - min) * (1 + Math.cos((Math.PI * epoch) / epochs))) / 2
}
