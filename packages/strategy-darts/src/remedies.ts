import type { Arch, Logger, Rng } from '@naskit/core'
import * as tf from '@tensorflow/tfjs'
import type { Bilevel, Mixing } from './bilevel.js'
import type { DartsRemedy, ResolvedSettings } from './options.js'
import { dartsPt, type PerturbationResult } from './perturb.js'
import { type CellKind, type DartsSupernet, type EdgeWeights, rowsToScalars } from './supernet.js'
import type { SplitView } from './trainer.js'

/** What a remedy is told before an epoch. */
export interface EpochContext {
  net: DartsSupernet
  /** 0-based. */
  epoch: number
  epochs: number
  settings: ResolvedSettings
  /** The search's generator; fork it, by a label naming the use and the epoch. */
  rng: Rng
}

/** How the steps of one epoch mix the candidate ops and score the architecture. */
export interface RemedyEpoch {
  /**
   * The mixing of the next forward pass: called once before each architecture step (both
   * losses of a second-order step share it) and once before each weight step.
   * @default softmax(alpha)
   */
  draw?(): Mixing
  /** A term added to the architecture loss (inside the gradient tape), or null for none. */
  archLossTerm?(): tf.Scalar | null
}

/** The two halves of the training images and how batches are resized. */
export interface Halves {
  /** The half the weights train on. */
  weights: SplitView
  /** The half the architecture parameters train on (DARTS' validation half). */
  arch: SplitView
  resize: [number, number] | undefined
}

/** What a remedy is given after the last epoch. */
export interface DeriveContext {
  bilevel: Bilevel
  halves: Halves
  rng: Rng
  signal?: AbortSignal
  log?: Logger
}

/** What a remedy derives instead of the cell of the strongest alphas. */
export interface Derived {
  arch: Arch
  selection: PerturbationResult & { timeMs: number }
}

/**
 * An anti-collapse remedy, as hooks into the search; every hook is optional and a remedy
 * without any is plain DARTS.
 */
export interface Remedy {
  readonly name: DartsRemedy
  /** Called before every epoch: how its steps mix the ops and what they add to the loss. */
  beforeEpoch?(ctx: EpochContext): RemedyEpoch
  /** Called after the last epoch: the architecture the search returns. */
  derive?(ctx: DeriveContext): Promise<Derived>
}

/** Gumbel noise per cell kind ([edges × ops] each). */
type Noise = Record<CellKind, Float32Array | null>

function gumbelNoise(net: DartsSupernet, rng: Rng): Noise {
  const make = (v: tf.Variable | null) => {
    if (v === null) return null
    const out = new Float32Array(v.size)
    for (let i = 0; i < out.length; i++) {
      let u = rng.next()
      while (u <= 0) u = rng.next()
      out[i] = -Math.log(-Math.log(u))
    }
    return out
  }
  return { normal: make(net.alphas.normal), reduce: make(net.alphas.reduce) }
}

/**
 * GDAS weights (call inside the tape): index = argmax(log_softmax(α) + g); the weight vector
 * is one-hot in value with the gradient of softmax((log_softmax(α) + g) / τ).
 */
function gumbelWeights(
  net: DartsSupernet,
  noise: Noise,
  tau: number,
): Record<CellKind, EdgeWeights[] | null> {
  const of = (v: tf.Variable | null, g: Float32Array | null): EdgeWeights[] | null => {
    if (v === null || g === null) return null
    const [e, k] = v.shape as [number, number]
    const logits = tf.div(tf.add(tf.logSoftmax(v), tf.tensor2d(g, [e, k])), tau)
    const soft = tf.softmax(logits) as tf.Tensor2D
    const s = soft.dataSync()
    const shift = new Float32Array(e * k)
    const index: number[] = []
    for (let i = 0; i < e; i++) {
      let best = 0
      for (let j = 1; j < k; j++) if (s[i * k + j]! > s[i * k + best]!) best = j
      index.push(best)
      for (let j = 0; j < k; j++) shift[i * k + j] = (j === best ? 1 : 0) - s[i * k + j]!
    }
    const hard = tf.add(soft, tf.tensor2d(shift, [e, k])) as tf.Tensor2D
    return rowsToScalars(hard).map((weights, i) => ({ mode: 'hard', index: index[i]!, weights }))
  }
  return {
    normal: of(net.alphas.normal, noise.normal),
    reduce: of(net.alphas.reduce, noise.reduce),
  }
}

/** GDAS: a Gumbel-max sample per pass, temperature annealed linearly over the epochs. */
const gdas: Remedy = {
  name: 'gdas',
  beforeEpoch({ net, epoch, epochs, settings, rng }) {
    const progress = epochs > 1 ? epoch / (epochs - 1) : 1
    const tau = settings.tauMax - (settings.tauMax - settings.tauMin) * progress
    const noiseRng = rng.fork(`darts:gumbel:${epoch}`)
    return {
      draw() {
        const noise = gumbelNoise(net, noiseRng)
        return () => gumbelWeights(net, noise, tau)
      },
    }
  },
}

/** β-DARTS' regulariser: mean over edges of logsumexp(α_edge), summed over cell kinds. */
function betaDecayLoss(net: DartsSupernet): tf.Scalar {
  return tf.addN(net.archVariables().map((v) => tf.mean(tf.logSumExp(v, 1)))) as tf.Scalar
}

/** β-DARTS: the regulariser with a weight growing linearly to `betaDecay` at the last epoch. */
const betaDecay: Remedy = {
  name: 'beta-decay',
  beforeEpoch({ net, epoch, epochs, settings }) {
    const lambda = settings.betaDecay * ((epoch + 1) / epochs)
    return lambda > 0 ? { archLossTerm: () => tf.mul(betaDecayLoss(net), lambda) as tf.Scalar } : {}
  },
}

/** The remedies by name. */
export const REMEDIES: Readonly<Record<DartsRemedy, Remedy>> = {
  none: { name: 'none' },
  gdas,
  'beta-decay': betaDecay,
  'darts-pt': dartsPt,
}
