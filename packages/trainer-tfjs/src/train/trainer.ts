import * as tf from '@tensorflow/tfjs'
import { batches, type SplitView } from '../data/dataset.js'
import { NaskitError } from '../errors.js'
import type { Network } from '../models/network.js'
import { createRng } from '../rng.js'
import {
  Adam,
  clipByGlobalNorm,
  MomentumSgd,
  scheduledLearningRate,
  withWeightDecay,
} from './optim.js'

export type OptimizerName = 'sgd' | 'momentum' | 'adam'

export interface TrainOptions {
  epochs: number
  batchSize: number
  /** Default `momentum` (SGD with momentum 0.9, Nesterov off). */
  optimizer?: OptimizerName
  /** Initial learning rate (default 0.05 for sgd/momentum, 0.001 for adam). */
  learningRate?: number
  momentum?: number
  /** L2 weight decay added to the gradients (default 3e-4). */
  weightDecay?: number
  /** `cosine` (default): cosine annealing per step down to `minLearningRate`; `constant`. */
  schedule?: 'cosine' | 'constant'
  minLearningRate?: number
  /**
   * Fraction of the run's steps spent on a linear learning-rate warm-up before the schedule
   * (default 0).
   */
  warmupFraction?: number
  /** Clip the global gradient norm (default 5; 0 turns it off). */
  gradClipNorm?: number
  /** A loss above this (or NaN/∞) fails with `E_DIVERGED` (default 1e3). */
  divergenceThreshold?: number
  /** Images are resized to this before the network (default none). */
  resize?: [number, number]
  seed?: number
  signal?: AbortSignal
  onProgress?: (p: { fraction: number; epoch: number; step: number; loss: number }) => void
}

/** What the training loop needs from a model (a `Network`, or an adapted tfjs-layers model). */
export interface Trainable {
  apply(x: tf.Tensor4D, training: boolean): tf.Tensor2D
  numClasses: number
  trainableVariables(): tf.Variable[]
}

export interface TrainResult {
  steps: number
  images: number
  finalLoss: number
  trainTimeMs: number
  imagesPerSecond: number
}

/** An update rule of the optimisation module, chosen by name. */
function makeOptimizer(
  name: OptimizerName,
  vars: readonly tf.Variable[],
  learningRate: number,
  momentum: number,
): MomentumSgd | Adam {
  switch (name) {
    case 'sgd':
      return new MomentumSgd(vars, { learningRate, momentum: 0 })
    case 'momentum':
      return new MomentumSgd(vars, { learningRate, momentum })
    case 'adam':
      // ε of tfjs' Adam on float32 backends, which this loop used before
      return new Adam(vars, { learningRate, epsilon: 1e-7 })
    default:
      throw new NaskitError(
        'E_BAD_OPTIONS',
        `Unknown optimizer "${name}" (use sgd, momentum or adam)`,
      )
  }
}

/** Lets timers, I/O and progress output run between steps of a long training loop. */
export const yieldToEventLoop = (): Promise<void> =>
  new Promise<void>((resolve) => setImmediate(resolve))

function checkAbort(signal?: AbortSignal) {
  if (signal?.aborted) throw new NaskitError('E_ABORTED', 'The trial was aborted')
}

/**
 * Trains a network with softmax cross-entropy. Every tensor it creates is released, the
 * optimizer included; the network's variables are updated in place.
 */
export async function trainNetwork(
  net: Trainable,
  data: SplitView,
  options: TrainOptions,
): Promise<TrainResult> {
  const optName = options.optimizer ?? 'momentum'
  const lr0 = options.learningRate ?? (optName === 'adam' ? 1e-3 : 0.05)
  const minLr = options.minLearningRate ?? 0
  const wd = options.weightDecay ?? 3e-4
  const clip = options.gradClipNorm ?? 5
  const limit = options.divergenceThreshold ?? 1e3
  const schedule = options.schedule ?? 'cosine'
  const rng = createRng((options.seed ?? 0) + 17)
  const stepsPerEpoch = Math.ceil(data.indices.length / options.batchSize)
  const total = Math.max(1, stepsPerEpoch * options.epochs)
  const warmupFraction = options.warmupFraction ?? 0
  if (!(warmupFraction >= 0 && warmupFraction < 1)) {
    throw new NaskitError(
      'E_BAD_OPTIONS',
      `warmupFraction must be in [0, 1), got ${JSON.stringify(options.warmupFraction)}`,
    )
  }
  const warmupSteps = Math.round(warmupFraction * total)
  const vars = net.trainableVariables()
  const optimizer = makeOptimizer(optName, vars, lr0, options.momentum ?? 0.9)
  const start = performance.now()
  let step = 0
  let images = 0
  let finalLoss = Number.NaN
  try {
    for (let epoch = 0; epoch < options.epochs; epoch++) {
      for (const batch of batches(data, {
        batchSize: options.batchSize,
        rng,
        resize: options.resize,
      })) {
        checkAbort(options.signal)
        optimizer.learningRate = scheduledLearningRate({
          lr0,
          min: minLr,
          step,
          total,
          warmupSteps,
          schedule,
        })
        let lossValue: number
        try {
          lossValue = tf.tidy(() => {
            const labels = tf.oneHot(batch.y, net.numClasses)
            const { value, grads } = tf.variableGrads(
              () => tf.losses.softmaxCrossEntropy(labels, net.apply(batch.x, true)) as tf.Scalar,
              vars,
            )
            // Variables that do not reach the loss (e.g. a cell node whose output is dropped by
            // `none` edges) get no gradient and are left alone.
            const decayed = vars.map((v) => {
              const g = grads[v.name]
              return g == null ? undefined : withWeightDecay(g, v, wd)
            })
            const lv = value.dataSync()[0]!
            if (Number.isFinite(lv) && lv <= limit) optimizer.step(clipByGlobalNorm(decayed, clip))
            return lv
          })
        } finally {
          batch.x.dispose()
          batch.y.dispose()
        }
        if (!Number.isFinite(lossValue) || lossValue > limit) {
          throw new NaskitError(
            'E_DIVERGED',
            `Training diverged at epoch ${epoch + 1}, step ${step + 1}: loss ${lossValue}. Lower the learning rate or enable gradient clipping.`,
          )
        }
        finalLoss = lossValue
        step++
        images += batch.size
        options.onProgress?.({ fraction: step / total, epoch, step, loss: lossValue })
        if (step % 4 === 0) await yieldToEventLoop()
      }
    }
  } finally {
    optimizer.dispose()
  }
  const trainTimeMs = performance.now() - start
  return {
    steps: step,
    images,
    finalLoss,
    trainTimeMs,
    imagesPerSecond: images / (trainTimeMs / 1000),
  }
}

/** Top-1 accuracy of the network (eval mode) on a view, in [0, 1]. */
export function evaluateAccuracy(
  net: Network,
  data: SplitView,
  batchSize = 256,
  resize?: [number, number],
): number {
  if (data.indices.length === 0) return Number.NaN
  let correct = 0
  for (const batch of batches(data, { batchSize, resize })) {
    const hits = tf.tidy(() => {
      const pred = tf.argMax(net.apply(batch.x, false), 1)
      return tf.sum(tf.cast(tf.equal(pred, batch.y), 'int32')).dataSync()[0]!
    })
    correct += hits
    batch.x.dispose()
    batch.y.dispose()
  }
  return correct / data.indices.length
}

/** Median wall time (ms) of one inference batch, after one warm-up run. */
export function measureLatency(
  net: Network,
  batchSize: number,
  repeats = 5,
  inputShape: [number, number, number] = net.inputShape,
): number {
  const x = tf.zeros([batchSize, ...inputShape]) as tf.Tensor4D
  try {
    const run = () => tf.tidy(() => void net.apply(x, false).dataSync())
    run()
    const times: number[] = []
    for (let i = 0; i < repeats; i++) {
      const t0 = performance.now()
      run()
      times.push(performance.now() - t0)
    }
    times.sort((a, b) => a - b)
    const mid = Math.floor(times.length / 2)
    return times.length % 2 === 1 ? times[mid]! : (times[mid - 1]! + times[mid]!) / 2
  } finally {
    x.dispose()
  }
}
