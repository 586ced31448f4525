import * as tf from '@tensorflow/tfjs'
import type { PeakMemory } from './memory.js'
import type { ResolvedSettings } from './options.js'
import type { CellKind, DartsSupernet, EdgeWeights } from './supernet.js'
import {
  Adam,
  batches,
  clipByGlobalNorm,
  MomentumSgd,
  type SplitView,
  withWeightDecay,
} from './trainer.js'

/** A batch of images and labels. */
export interface Batch {
  x: tf.Tensor4D
  y: tf.Tensor1D
}

/** The edge weights of one forward pass, per cell kind (computed inside the gradient tape). */
export type Mixing = () => Record<CellKind, EdgeWeights[] | null>

/**
 * Batches of a view without end: pass after pass, each shuffled by `rng` when given (an empty
 * view yields nothing). Call `return()` when done.
 */
export function* endlessBatches(
  view: SplitView,
  options: Parameters<typeof batches>[1],
): Generator<Batch, void, undefined> {
  for (;;) {
    let any = false
    for (const b of batches(view, options)) {
      any = true
      yield b
    }
    if (!any) return
  }
}

/** Releases a batch's tensors. */
export function disposeBatch(b: Batch): void {
  b.x.dispose()
  b.y.dispose()
}

/** Mean cross-entropy and the batch's correct predictions, from the given edge weights. */
export function lossOf(
  net: DartsSupernet,
  b: Batch,
  weights: Record<CellKind, EdgeWeights[] | null>,
  out?: { correct: number },
): tf.Scalar {
  const logits = net.forwardWith(b.x, true, weights)
  if (out) {
    out.correct = tf
      .sum(tf.cast(tf.equal(tf.argMax(logits, 1), b.y), 'int32'))
      .dataSync()[0] as number
  }
  const labels = tf.oneHot(b.y, net.network.numClasses)
  return tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar
}

/** The blobs of a DARTS checkpoint. */
export type CheckpointBlob = 'weights' | 'alphas' | 'sgd' | 'adam'

/**
 * The two optimisers of DARTS' bilevel problem and their steps: the weights with momentum SGD
 * (`lr`, `momentum`) on one half of the images, the architecture parameters with Adam
 * (`archLr`, `archBeta1`, `archBeta2`) on the other.
 */
export class Bilevel {
  readonly wVars: tf.Variable[]
  readonly aVars: tf.Variable[]
  readonly sgd: MomentumSgd
  readonly adam: Adam

  constructor(
    readonly net: DartsSupernet,
    readonly settings: ResolvedSettings,
  ) {
    this.wVars = net.weightVariables()
    this.aVars = net.archVariables()
    this.sgd = new MomentumSgd(this.wVars, {
      learningRate: settings.lr,
      momentum: settings.momentum,
    })
    this.adam = new Adam(this.aVars, {
      learningRate: settings.archLr,
      beta1: settings.archBeta1,
      beta2: settings.archBeta2,
    })
  }

  /**
   * The variables a checkpoint holds, by blob: every network variable (batch-norm statistics
   * included), the architecture parameters, the momentum buffers and Adam's moments (Adam's
   * step count `adam.t` is a number beside them).
   */
  checkpointVariables(): Record<CheckpointBlob, tf.Variable[]> {
    return {
      weights: this.net.network.namedVariables().map((v) => v.variable),
      alphas: this.aVars,
      sgd: this.wVars.map((_, i) => this.sgd.buffer(i)),
      adam: [...this.adam.m, ...this.adam.v],
    }
  }

  /** Releases the optimisers' state (the supernet is the caller's). */
  dispose(): void {
    this.sgd.dispose()
    this.adam.dispose()
  }

  /**
   * A weight step on `batch`, as DARTS' code does it: the raw gradients are clipped to
   * `gradClip`, then weight decay is added, then momentum SGD. Returns the loss; `memory`
   * records the bytes held once the gradients exist.
   */
  weightStep(
    batch: Batch,
    mixing: Mixing,
    options: { out?: { correct: number }; memory?: PeakMemory } = {},
  ): number {
    const { out, memory } = options
    const { gradClip, weightDecay } = this.settings
    return tf.tidy(() => {
      const { value, grads } = tf.variableGrads(
        () => lossOf(this.net, batch, mixing(), out),
        this.wVars,
      )
      memory?.sample()
      const clipped = clipByGlobalNorm(
        this.wVars.map((v) => grads[v.name]),
        gradClip,
      )
      this.sgd.step(
        clipped.map((g, i) =>
          g === undefined ? g : withWeightDecay(g, this.wVars[i]!, weightDecay),
        ),
      )
      return value.dataSync()[0]!
    })
  }

  /**
   * An architecture step on `val` with Adam (weight decay `archWeightDecay`): the gradient of
   * the validation loss (plus `extra`, a remedy's term) at the current weights (`first`
   * order) or at the weights after one unrolled step on `train` (`second`). Returns the
   * validation loss; `memory` records the bytes held once the gradients exist.
   */
  archStep(
    train: Batch,
    val: Batch,
    mixing: Mixing,
    options: {
      extra?: (() => tf.Scalar | null) | undefined
      out?: { correct: number }
      memory?: PeakMemory
    } = {},
  ): number {
    const { extra, out, memory } = options
    const valLoss = () => {
      const l = lossOf(this.net, val, mixing(), out)
      const term = extra?.() ?? null
      return term === null ? l : (tf.add(l, term) as tf.Scalar)
    }
    const decayed = (grads: readonly tf.Tensor[]) =>
      grads.map((g, i) => withWeightDecay(g, this.aVars[i]!, this.settings.archWeightDecay))
    if (this.settings.order === 'first') {
      return tf.tidy(() => {
        const { value, grads } = tf.variableGrads(valLoss, this.aVars)
        memory?.sample()
        this.adam.step(decayed(this.aVars.map((v) => grads[v.name]!)))
        return value.dataSync()[0]!
      })
    }
    const u = unrolledArchGradients({
      net: this.net,
      sgd: this.sgd,
      xi: this.sgd.learningRate,
      weightDecay: this.settings.weightDecay,
      trainLoss: () => lossOf(this.net, train, mixing()),
      valLoss,
      onMemory: (bytes) => memory?.note(bytes),
    })
    tf.tidy(() => this.adam.step(decayed(u.grads)))
    tf.dispose(u.grads)
    return u.loss
  }
}

/**
 * The second-order architecture gradient (DARTS eq. 7–8), without applying it:
 * w' = w − ξ·(μ·buf + ∇w L_train + λw), then
 * ∇α L_val(w', α) − ξ·(∇α L_train(w⁺, α) − ∇α L_train(w⁻, α)) / 2ε with
 * w± = w ± ε·∇w' L_val(w', α) and ε = 0.01 / ‖∇w' L_val‖. Every network variable (BN
 * statistics included) is restored afterwards. The caller disposes the returned gradients.
 */
export function unrolledArchGradients(args: {
  net: DartsSupernet
  sgd: MomentumSgd
  xi: number
  /** L2 weight decay of the weight step being unrolled. */
  weightDecay: number
  trainLoss: () => tf.Scalar
  valLoss: () => tf.Scalar
  onMemory?: (bytes: number) => void
}): { grads: tf.Tensor[]; loss: number } {
  const { net, sgd, xi } = args
  const aVars = net.archVariables()
  const wVars = [...sgd.vars]
  const allNetVars = net.network.namedVariables().map((v) => v.variable)
  const saved = allNetVars.map((v) => tf.clone(v))
  const savedOf = new Map(allNetVars.map((v, i) => [v, saved[i]!]))
  const restore = () =>
    tf.tidy(() => {
      allNetVars.forEach((v, i) => {
        v.assign(saved[i]!)
      })
    })
  const track = () => args.onMemory?.(tf.memory().numBytes)
  try {
    // w' = w − ξ (μ·buf + g + λw)
    tf.tidy(() => {
      const { grads } = tf.variableGrads(args.trainLoss, wVars)
      track()
      const steps = wVars.map((v, i) => {
        const g = grads[v.name]
        const m = tf.mul(sgd.buffer(i), sgd.momentum)
        return g === undefined ? m : tf.add(m, withWeightDecay(g, v, args.weightDecay))
      })
      wVars.forEach((v, i) => {
        v.assign(tf.sub(v, tf.mul(steps[i]!, xi)))
      })
    })
    // ∇α and ∇w' of L_val at (w', α)
    const [dAlpha, dW, loss] = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(args.valLoss, [...aVars, ...wVars])
      track()
      return [
        aVars.map((v) => tf.keep(grads[v.name] ?? tf.zerosLike(v))),
        wVars.map((v) => tf.keep(grads[v.name] ?? tf.zerosLike(v))),
        tf.keep(value),
      ] as const
    })
    restore()
    const lossValue = loss.dataSync()[0]!
    loss.dispose()
    // finite-difference Hessian-vector product
    const norm = tf.tidy(() =>
      Math.sqrt(tf.addN(dW.map((g) => tf.sum(tf.square(g)))).dataSync()[0]!),
    )
    const eps = 0.01 / Math.max(norm, 1e-12)
    const gradAt = (sign: number): tf.Tensor[] => {
      tf.tidy(() => {
        wVars.forEach((v, i) => {
          v.assign(tf.add(savedOf.get(v)!, tf.mul(dW[i]!, sign * eps)))
        })
      })
      return tf.tidy(() => {
        const { grads } = tf.variableGrads(args.trainLoss, aVars)
        return aVars.map((v) => tf.keep(grads[v.name] ?? tf.zerosLike(v)))
      })
    }
    const gPlus = gradAt(1)
    const gMinus = gradAt(-1)
    restore()
    const grads = tf.tidy(() =>
      dAlpha.map((g, i) => tf.sub(g, tf.mul(tf.sub(gPlus[i]!, gMinus[i]!), xi / (2 * eps)))),
    )
    tf.dispose([...gPlus, ...gMinus, ...dAlpha, ...dW])
    return { grads, loss: lossValue }
  } finally {
    tf.dispose(saved)
  }
}
