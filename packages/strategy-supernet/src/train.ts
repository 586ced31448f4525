import {
  type Arch,
  bytesToFloat32,
  float32ToBytes,
  type JsonValue,
  NaskitError,
  Rng,
} from '@naskit/core'
import * as tf from '@tensorflow/tfjs'
import { type ArchSampler, createSampler, type SamplerKind } from './sampler'
import type { Supernet } from './supernet'
import {
  batches,
  clipByGlobalNorm,
  cosineLearningRate,
  MomentumSgd,
  type SplitView,
  withWeightDecay,
  yieldToEventLoop,
} from './trainer'
import { loadWeights, saveWeights } from './weights'

/** Options of single-path one-shot training. */
export interface SupernetTrainOptions {
  /** Passes over the training data. */
  epochs: number
  /** @default 64 */
  batchSize?: number
  /** Initial learning rate of SGD with momentum, annealed by a cosine per step. @default 0.05 */
  learningRate?: number
  /**
   * Floor of the cosine schedule. Annealing the shared weights all the way to zero made
   * inherited accuracy rank architectures clearly worse in the package's benchmark.
   * @default learningRate / 5
   */
  minLearningRate?: number
  /**
   * Stochastic weight averaging (Izmailov et al. 2018): the trainable weights after every
   * epoch from this one on (1-based, inclusive) are averaged, and the average replaces the
   * weights when the last epoch is done. Batch-norm statistics are not averaged: the
   * evaluator recalibrates them per candidate anyway. For a few-shot supernet it must come
   * after the split. Off by default.
   */
  averageFrom?: number
  /** @default 0.9 */
  momentum?: number
  /** L2 weight decay on the trained path's weights. @default 3e-4 */
  weightDecay?: number
  /** Clip the global gradient norm (0 turns it off). @default 5 */
  gradClipNorm?: number
  /**
   * `uniform`: one architecture drawn uniformly per step (SPOS). `fair`: FairNAS strict
   * fairness, a group of architectures per step covering every op of every layer once,
   * their gradients summed into one update. Or a sampler of your own. @default 'uniform'
   */
  sampler?: SamplerKind | ArchSampler
  /** Images are resized to this before the supernet. */
  resize?: [number, number]
  /** A loss above this (or NaN/∞) fails with `E_DIVERGED`. @default 1e3 */
  divergenceThreshold?: number
  seed?: number
  signal?: AbortSignal
  /** Stop after this much wall time (at a step boundary). */
  timeMs?: number
  onProgress?(p: {
    fraction: number
    epoch: number
    step: number
    loss: number
    learningRate: number
  }): void
  /** Called after every epoch, e.g. to write a checkpoint. */
  onEpoch?(info: { epoch: number; loss: number }): void | Promise<void>
}

/** What {@link SupernetTrainer.train} reports. */
export interface SupernetTrainSummary {
  epochs: number
  steps: number
  /** Architectures trained (steps × group). */
  paths: number
  images: number
  finalLoss: number
  trainTimeMs: number
  /** True when the time budget ended training early. */
  stoppedEarly: boolean
}

/** A checkpoint of training: JSON state and binary blobs (weights, momentum buffers). */
export interface TrainCheckpoint {
  state: JsonValue
  blobs: Record<string, Uint8Array>
}

const OPT_PREFIX = 'optimizer/'
const AVG_PREFIX = 'average/'

/**
 * Single-path one-shot training (Guo et al. 2020): every step draws an architecture and
 * trains only its path of the supernet on one batch, with SGD with momentum whose buffers
 * exist only for the variables a path used. Checkpointable after every epoch.
 */
export class SupernetTrainer {
  readonly sampler: ArchSampler
  /** The trainer's generator: the sampler's and each epoch's batch order are forks of it. */
  private readonly rng: Rng
  private readonly opt: MomentumSgd
  private readonly varsByPath: Map<string, tf.Variable>
  /** Stable path names of the trainable variables, and their index by tfjs name. */
  private readonly pathNames: string[]
  private readonly indexOf: Map<string, number>
  private readonly trainable: tf.Variable[]
  /** Completed epochs. */
  epoch = 0
  /** Completed steps. */
  step = 0
  private paths = 0
  private images = 0
  private lastLoss = Number.NaN
  /** Running mean of the trainable weights by path, and how many epochs it holds. */
  private average = new Map<string, Float32Array>()
  private averageCount = 0
  /** True once the average has replaced the weights. */
  private averaged = false
  private readonly o: Required<
    Omit<
      SupernetTrainOptions,
      'sampler' | 'resize' | 'signal' | 'timeMs' | 'onProgress' | 'onEpoch' | 'averageFrom'
    >
  >

  constructor(
    readonly supernet: Supernet,
    readonly data: SplitView,
    readonly options: SupernetTrainOptions,
  ) {
    this.o = {
      epochs: options.epochs,
      batchSize: options.batchSize ?? 64,
      learningRate: options.learningRate ?? 0.05,
      minLearningRate: options.minLearningRate ?? (options.learningRate ?? 0.05) / 5,
      momentum: options.momentum ?? 0.9,
      weightDecay: options.weightDecay ?? 3e-4,
      gradClipNorm: options.gradClipNorm ?? 5,
      divergenceThreshold: options.divergenceThreshold ?? 1e3,
      seed: options.seed ?? 0,
    }
    if (!(Number.isInteger(this.o.epochs) && this.o.epochs >= 0))
      throw new NaskitError('E_BAD_OPTIONS', `epochs must be an integer ≥ 0, got ${this.o.epochs}.`)
    if (
      !(this.o.learningRate > 0) ||
      !(this.o.minLearningRate >= 0 && this.o.minLearningRate <= this.o.learningRate)
    ) {
      throw new NaskitError(
        'E_BAD_OPTIONS',
        `learningRate must be > 0 and minLearningRate within [0, learningRate]; got ${this.o.learningRate} and ${this.o.minLearningRate}.`,
      )
    }
    const from = options.averageFrom
    if (from !== undefined) {
      if (!(Number.isInteger(from) && from >= 1 && from <= this.o.epochs)) {
        throw new NaskitError(
          'E_BAD_OPTIONS',
          `averageFrom must be an integer epoch within [1, epochs = ${this.o.epochs}], got ${from}.`,
        )
      }
      const split = supernet.splitPlan()
      if (split !== null && from <= split.epoch) {
        throw new NaskitError(
          'E_BAD_OPTIONS',
          `averageFrom (${from}) must come after the few-shot split (epoch ${split.epoch}): the copies only exist from then on.`,
        )
      }
    }
    if (this.data.indices.length < this.o.batchSize) {
      throw new NaskitError(
        'E_BAD_OPTIONS',
        `The training data has ${this.data.indices.length} images, fewer than one batch of ${this.o.batchSize}; lower batchSize or use more data.`,
      )
    }
    this.rng = new Rng(this.o.seed)
    const s = options.sampler ?? 'uniform'
    this.sampler =
      typeof s === 'string'
        ? createSampler(s, supernet.space, this.rng.fork('supernet:sampler'))
        : s
    const named = supernet.namedVariables().filter((v) => v.trainable)
    this.varsByPath = new Map(named.map((v) => [v.name, v.variable]))
    this.pathNames = named.map((v) => v.name)
    this.indexOf = new Map(named.map((v, i) => [v.variable.name, i]))
    this.trainable = named.map((v) => v.variable)
    this.opt = new MomentumSgd(this.trainable, {
      learningRate: this.o.learningRate,
      momentum: this.o.momentum,
    })
  }

  /** Steps of one epoch (incomplete last batches are dropped). */
  get stepsPerEpoch(): number {
    return Math.floor(this.data.indices.length / this.o.batchSize)
  }

  get totalSteps(): number {
    return Math.max(1, this.stepsPerEpoch * this.o.epochs)
  }

  /**
   * The learning rate of a step: a cosine from `learningRate` down to `minLearningRate` over
   * the run; for a supernet that splits (few-shot), one cycle up to the split, and a second
   * one from the split's learning rate over the rest.
   */
  learningRateAt(step: number): number {
    const { learningRate: lr, minLearningRate: floor } = this.o
    const split = this.supernet.splitPlan()
    if (split !== null) {
      const splitStep = split.epoch * this.stepsPerEpoch
      if (splitStep > 0 && splitStep < this.totalSteps) {
        if (step < splitStep) return cosineLearningRate(lr, floor, step, splitStep)
        const restart = Math.max(floor, split.learningRate ?? 0.4 * lr)
        return cosineLearningRate(restart, floor, step - splitStep, this.totalSteps - splitStep)
      }
    }
    return cosineLearningRate(lr, floor, step, this.totalSteps)
  }

  /** One update on a batch: the gradients of `archs` summed, applied to their paths only. */
  trainStep(x: tf.Tensor4D, y: tf.Tensor1D, archs: Arch[]): number {
    const { weightDecay: wd, gradClipNorm: clip } = this.o
    this.opt.learningRate = this.learningRateAt(this.step)
    return tf.tidy(() => {
      const labels = tf.oneHot(y, this.supernet.numClasses)
      // gradients by variable index, in the order the paths first reached them
      const sum = new Map<number, tf.Tensor>()
      let loss = 0
      for (const arch of archs) {
        const { value, grads } = tf.variableGrads(
          () =>
            tf.losses.softmaxCrossEntropy(
              labels,
              this.supernet.forward(x, arch, true),
            ) as tf.Scalar,
          this.trainable,
        )
        loss += value.dataSync()[0] as number
        for (const [name, g] of Object.entries(grads)) {
          const i = this.indexOf.get(name)
          if (i === undefined) continue
          const prev = sum.get(i)
          sum.set(i, prev === undefined ? g : tf.add(prev, g))
        }
      }
      loss /= archs.length
      if (!Number.isFinite(loss) || loss > this.o.divergenceThreshold) return loss
      const used = [...sum.keys()]
      const clipped = clipByGlobalNorm(
        used.map((i) => withWeightDecay(sum.get(i)!, this.trainable[i]!, wd)),
        clip,
      )
      const perVariable: Array<tf.Tensor | undefined> = this.trainable.map(() => undefined)
      used.forEach((i, k) => {
        perVariable[i] = clipped[k]
      })
      this.opt.step(perVariable)
      return loss
    })
  }

  /** Trains the remaining epochs. */
  async train(): Promise<SupernetTrainSummary> {
    const start = performance.now()
    let stoppedEarly = false
    const group = this.sampler.group
    const split = this.supernet.splitPlan()
    outer: while (this.epoch < this.o.epochs) {
      if (split !== null && this.epoch >= split.epoch) this.supernet.splitNow()
      const rng = this.rng.fork(`supernet:batches:${this.epoch}`)
      let stepInEpoch = 0
      const firstStep = this.step - this.epoch * this.stepsPerEpoch
      for (const batch of batches(this.data, {
        batchSize: this.o.batchSize,
        rng,
        resize: this.options.resize,
        dropLast: true,
      })) {
        try {
          if (stepInEpoch++ < firstStep) continue
          if (this.options.signal?.aborted)
            throw new NaskitError('E_ABORTED', 'Supernet training was aborted.')
          if (
            this.options.timeMs !== undefined &&
            performance.now() - start > this.options.timeMs
          ) {
            stoppedEarly = true
            break outer
          }
          const archs = Array.from({ length: group }, () => this.sampler.next())
          const loss = this.trainStep(batch.x, batch.y, archs)
          if (!Number.isFinite(loss) || loss > this.o.divergenceThreshold) {
            throw new NaskitError(
              'E_DIVERGED',
              `Supernet training diverged at epoch ${this.epoch + 1}, step ${this.step + 1}: loss ${loss}. Lower the learning rate.`,
            )
          }
          this.lastLoss = loss
          this.step++
          this.paths += archs.length
          this.images += batch.size
          this.options.onProgress?.({
            fraction: this.step / this.totalSteps,
            epoch: this.epoch,
            step: this.step,
            loss,
            learningRate: this.opt.learningRate,
          })
        } finally {
          batch.x.dispose()
          batch.y.dispose()
        }
        if (this.step % 4 === 0) await yieldToEventLoop()
      }
      this.epoch++
      this.accumulateAverage()
      await this.options.onEpoch?.({ epoch: this.epoch, loss: this.lastLoss })
    }
    return {
      epochs: this.epoch,
      steps: this.step,
      paths: this.paths,
      images: this.images,
      finalLoss: this.lastLoss,
      trainTimeMs: performance.now() - start,
      stoppedEarly,
    }
  }

  /** Epochs in the weight average so far (0 without `averageFrom`). */
  get averagedEpochs(): number {
    return this.averageCount
  }

  /**
   * Adds the weights of the epoch just completed to the running average and, after the last
   * epoch, puts the average in place of the weights.
   */
  private accumulateAverage(): void {
    const from = this.options.averageFrom
    if (from === undefined || this.averaged || this.epoch < from) return
    const n = ++this.averageCount
    for (const [path, v] of this.varsByPath) {
      const w = v.dataSync() as Float32Array
      const avg = this.average.get(path)
      if (avg === undefined) {
        this.average.set(path, Float32Array.from(w))
        continue
      }
      for (let i = 0; i < w.length; i++) avg[i]! += ((w[i] as number) - avg[i]!) / n
    }
    if (this.epoch < this.o.epochs) return
    for (const [path, v] of this.varsByPath) {
      const avg = this.average.get(path)!
      tf.tidy(() => v.assign(tf.tensor(avg, v.shape, 'float32')))
    }
    this.average.clear()
    this.averaged = true
  }

  /** The training state and the supernet's weights and momentum buffers. */
  checkpoint(): TrainCheckpoint {
    const blobs = saveWeights(this.supernet)
    for (const [i, values] of this.opt.state())
      blobs[OPT_PREFIX + this.pathNames[i]] = float32ToBytes(values)
    for (const [path, avg] of this.average) blobs[AVG_PREFIX + path] = float32ToBytes(avg)
    return {
      state: {
        epoch: this.epoch,
        step: this.step,
        paths: this.paths,
        images: this.images,
        sampler: this.sampler.state(),
        split: this.supernet.isSplit,
        averageCount: this.averageCount,
        averaged: this.averaged,
      },
      blobs,
    }
  }

  /** Continues from a {@link SupernetTrainer.checkpoint}. */
  restore(cp: TrainCheckpoint): void {
    const s = cp.state as {
      epoch?: unknown
      step?: unknown
      paths?: number
      images?: number
      sampler?: JsonValue
      split?: boolean
      averageCount?: number
      averaged?: boolean
    } | null
    if (!s || typeof s.epoch !== 'number' || typeof s.step !== 'number' || s.sampler === undefined)
      throw new NaskitError('E_BAD_STATE', 'Not a supernet training checkpoint.')
    const weights: Record<string, Uint8Array> = {}
    const buffers = new Map<number, Float32Array>()
    const average = new Map<string, Float32Array>()
    for (const [name, bytes] of Object.entries(cp.blobs)) {
      if (name.startsWith(OPT_PREFIX)) {
        const i = this.pathNames.indexOf(name.slice(OPT_PREFIX.length))
        if (i >= 0) buffers.set(i, bytesToFloat32(bytes))
      } else if (name.startsWith(AVG_PREFIX))
        average.set(name.slice(AVG_PREFIX.length), bytesToFloat32(bytes))
      else weights[name] = bytes
    }
    const averageCount = s.averageCount ?? 0
    if (averageCount > 0 && !s.averaged) {
      for (const [path, v] of this.varsByPath) {
        if (average.get(path)?.length !== v.size)
          throw new NaskitError(
            'E_BAD_STATE',
            `The checkpoint's weight average does not fit this supernet ("${path}"). Resume with the same space and supernet options.`,
          )
      }
    }
    loadWeights(this.supernet, weights)
    if (s.split === true) this.supernet.markSplit()
    this.opt.restore(buffers)
    this.sampler.restore(s.sampler)
    this.epoch = s.epoch
    this.step = s.step
    this.paths = s.paths ?? 0
    this.images = s.images ?? 0
    this.averageCount = averageCount
    this.average = s.averaged ? new Map() : average
    this.averaged = s.averaged === true
  }

  dispose(): void {
    this.opt.dispose()
  }
}

/** Trains a supernet with single-path one-shot training; see {@link SupernetTrainer}. */
export async function trainSupernet(
  supernet: Supernet,
  data: SplitView,
  options: SupernetTrainOptions,
): Promise<SupernetTrainSummary> {
  const trainer = new SupernetTrainer(supernet, data, options)
  try {
    return await trainer.train()
  } finally {
    trainer.dispose()
  }
}
