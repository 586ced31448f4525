import * as tf from '@tensorflow/tfjs'

/**
 * The optimisation tools of every naskit training loop (the trainer's, DARTS' and the
 * weight-sharing supernet's): update rules over variables, L2 weight decay, global-norm
 * gradient clipping and the cosine learning-rate schedule. The update rules keep their state
 * in variables a checkpoint can read and restore; weight decay and clipping are separate, so
 * that each loop applies them in its recipe's order.
 */

/** A zero, non-trainable variable shaped like `like` (the temporary tensor is released). */
function zerosVariable(like: tf.Tensor): tf.Variable {
  return tf.tidy(() => tf.variable(tf.zerosLike(like), false))
}

/**
 * The cosine schedule: lr(t) = min + (lr0 − min)(1 + cos(π t / T)) / 2, for steps (or epochs)
 * t = 0 … T. It starts at `lr0`, reaches `min` at t = T, and stays there beyond; t < 0 gives
 * `lr0`, and so does a schedule of T ≤ 0 steps.
 */
export function cosineLearningRate(lr0: number, min: number, step: number, total: number): number {
  if (total <= 0) return lr0
  const t = Math.min(Math.max(step, 0), total)
  return min + ((lr0 - min) * (1 + Math.cos((Math.PI * t) / total))) / 2
}

/**
 * The learning rate of step `step` of `total`: a linear warm-up from lr0 / warmupSteps to lr0
 * over the first `warmupSteps` steps, then `cosine` annealing over the remaining steps down to
 * `min` (or `constant` at lr0).
 */
export function scheduledLearningRate(options: {
  lr0: number
  min: number
  step: number
  total: number
  warmupSteps: number
  schedule: 'cosine' | 'constant'
}): number {
  const { lr0, min, step, total, schedule } = options
  const warm = Math.min(Math.max(0, Math.floor(options.warmupSteps)), Math.max(0, total - 1))
  if (step < warm) return (lr0 * (step + 1)) / warm
  if (schedule === 'constant') return lr0
  return cosineLearningRate(lr0, min, step - warm, total - warm)
}

/** A gradient with L2 weight decay added: g + λ·w (`g` itself when λ is 0). */
export function withWeightDecay(g: tf.Tensor, w: tf.Tensor, weightDecay: number): tf.Tensor {
  return weightDecay > 0 ? tf.add(g, tf.mul(w, weightDecay)) : g
}

/**
 * Scales gradients so that their global L2 norm is at most `maxNorm` (the factor is
 * min(1, maxNorm / (‖g‖ + 1e-6)), as PyTorch's `clip_grad_norm_`); missing gradients stay
 * missing. A `maxNorm` of 0 turns clipping off. Call it inside `tf.tidy`.
 */
export function clipByGlobalNorm<G extends tf.Tensor | undefined>(
  grads: readonly G[],
  maxNorm: number,
): G[] {
  const present = grads.filter((g): g is NonNullable<G> => g !== undefined)
  if (maxNorm <= 0 || present.length === 0) return [...grads]
  const norm = tf.sqrt(tf.addN(present.map((g) => tf.sum(tf.square(g)))))
  const factor = tf.minimum(1, tf.div(maxNorm, tf.add(norm, 1e-6)))
  return grads.map((g) => (g === undefined ? g : tf.mul(g, factor))) as G[]
}

/** Options of {@link MomentumSgd}. */
export interface MomentumSgdOptions {
  learningRate: number
  /** 0 is plain SGD (no buffers). @default 0.9 */
  momentum?: number
  /** @default false */
  nesterov?: boolean
}

/**
 * SGD with momentum over variables, as PyTorch defines it (dampening 0):
 * buf ← μ·buf + g; w ← w − lr·buf (Nesterov: w ← w − lr·(g + μ·buf)). A variable without a
 * gradient in a step is left alone, its buffer too, so paths that change from step to step
 * (weight-sharing supernets) keep their own momentum. A buffer exists from a variable's first
 * gradient on (or when {@link MomentumSgd.buffer} asks for it), zero until then.
 */
export class MomentumSgd {
  learningRate: number
  readonly momentum: number
  readonly nesterov: boolean
  private readonly buffers = new Map<number, tf.Variable>()

  constructor(
    readonly vars: readonly tf.Variable[],
    options: MomentumSgdOptions,
  ) {
    this.learningRate = options.learningRate
    this.momentum = options.momentum ?? 0.9
    this.nesterov = options.nesterov ?? false
  }

  /** The momentum buffer of `vars[i]`, created (zero) if it does not exist yet. */
  buffer(i: number): tf.Variable {
    let b = this.buffers.get(i)
    if (b === undefined) {
      b = zerosVariable(this.vars[i]!)
      this.buffers.set(i, b)
    }
    return b
  }

  /** One update with a gradient per variable (`grads[i]` for `vars[i]`; undefined: skipped). */
  step(grads: ReadonlyArray<tf.Tensor | undefined>): void {
    const lr = this.learningRate
    const m = this.momentum
    tf.tidy(() => {
      grads.forEach((g, i) => {
        if (g === undefined) return
        const v = this.vars[i]!
        if (m === 0) {
          v.assign(tf.sub(v, tf.mul(g, lr)))
          return
        }
        const buf = this.buffer(i)
        const nb = tf.add(tf.mul(buf, m), g)
        buf.assign(nb)
        const update = this.nesterov ? tf.add(g, tf.mul(nb, m)) : nb
        v.assign(tf.sub(v, tf.mul(update, lr)))
      })
    })
  }

  /** The values of the buffers that exist, by variable index (for checkpoints). */
  state(): Map<number, Float32Array> {
    const out = new Map<number, Float32Array>()
    for (const [i, b] of this.buffers) out.set(i, (b.dataSync() as Float32Array).slice())
    return out
  }

  /**
   * Replaces every buffer by the saved ones of {@link MomentumSgd.state}; entries for an index
   * out of range or of another size than their variable are skipped.
   */
  restore(saved: ReadonlyMap<number, Float32Array>): void {
    this.dispose()
    for (const [i, values] of saved) {
      const v = this.vars[i]
      if (v === undefined || values.length !== v.size) continue
      this.buffers.set(
        i,
        tf.tidy(() => tf.variable(tf.tensor(values, v.shape, 'float32'), false)),
      )
    }
  }

  /** Releases the buffers. */
  dispose(): void {
    for (const b of this.buffers.values()) b.dispose()
    this.buffers.clear()
  }
}

/** Options of {@link Adam}. */
export interface AdamOptions {
  learningRate: number
  /** @default 0.9 */
  beta1?: number
  /** @default 0.999 */
  beta2?: number
  /** @default 1e-8 */
  epsilon?: number
}

/**
 * Adam with bias correction (Kingma & Ba 2015) over variables: m ← β1·m + (1 − β1)·g,
 * v ← β2·v + (1 − β2)·g², w ← w − lr·m̂ / (√v̂ + ε) with m̂ = m / (1 − β1ᵗ), v̂ = v / (1 − β2ᵗ).
 * The moments are variables and the step count `t` a number: all checkpointable.
 */
export class Adam {
  readonly m: tf.Variable[]
  readonly v: tf.Variable[]
  /** Steps taken. */
  t = 0
  learningRate: number
  readonly beta1: number
  readonly beta2: number
  readonly epsilon: number

  constructor(
    readonly vars: readonly tf.Variable[],
    options: AdamOptions,
  ) {
    this.learningRate = options.learningRate
    this.beta1 = options.beta1 ?? 0.9
    this.beta2 = options.beta2 ?? 0.999
    this.epsilon = options.epsilon ?? 1e-8
    this.m = vars.map(zerosVariable)
    this.v = vars.map(zerosVariable)
  }

  /**
   * One update (`grads[i]` for `vars[i]`; undefined: that variable is skipped, its moments
   * too, while `t` counts every step).
   */
  step(grads: ReadonlyArray<tf.Tensor | undefined>): void {
    this.t++
    const { beta1, beta2, epsilon, learningRate: lr } = this
    const c1 = 1 - beta1 ** this.t
    const c2 = 1 - beta2 ** this.t
    tf.tidy(() => {
      grads.forEach((g, i) => {
        if (g === undefined) return
        const p = this.vars[i]!
        const m = tf.add(tf.mul(this.m[i]!, beta1), tf.mul(g, 1 - beta1))
        const v = tf.add(tf.mul(this.v[i]!, beta2), tf.mul(tf.square(g), 1 - beta2))
        this.m[i]!.assign(m)
        this.v[i]!.assign(v)
        const update = tf.div(tf.div(m, c1), tf.add(tf.sqrt(tf.div(v, c2)), epsilon))
        p.assign(tf.sub(p, tf.mul(update, lr)))
      })
    })
  }

  /** Releases the moments. */
  dispose(): void {
    for (const x of [...this.m, ...this.v]) x.dispose()
  }
}

/**
 * Disposes a tfjs optimizer completely: tfjs 4.22's momentum optimizer keeps its
 * learning-rate scalar after `dispose()`.
 */
export function disposeOptimizer(opt: tf.Optimizer): void {
  opt.dispose()
  const c = (opt as unknown as { c?: tf.Tensor }).c
  if (c != null && !c.isDisposed) c.dispose()
}
