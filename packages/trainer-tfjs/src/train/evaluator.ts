import { readdirSync } from 'node:fs'
import * as tf from '@tensorflow/tfjs'
import { type BackendChoice, selectBackend } from '../backend.js'
import { type Dataset, type SplitOptions, splitDataset } from '../data/dataset.js'
import { loadFashionMnist, loadMnist } from '../data/mnist.js'
import { NaskitError } from '../errors.js'
import { type BuildOptions, buildNetwork, inferSpace, type SpaceName } from '../models/index.js'
import { saveNetwork } from './export.js'
import { evaluateAccuracy, measureLatency, type OptimizerName, trainNetwork } from './trainer.js'

/** The evaluation context given by the runner (the `Evaluator` contract of @naskit/core). */
export interface EvalContext {
  trialId: number
  seed: number
  fidelity?: { epochs?: number; dataFraction?: number }
  signal?: AbortSignal
  progress?(p: { fraction: number; message?: string }): void
}

export type Metrics = { objective: number; [metric: string]: number | string | boolean | null }

export interface Evaluator {
  name: string
  evaluate(arch: unknown, ctx: EvalContext): Promise<Metrics>
  /** Trains as `evaluate` does and saves the model (model.json + weights) into `ctx.dir`. */
  exportModel(
    arch: unknown,
    ctx: EvalContext & { dir: string; format: string },
  ): Promise<{ format: 'tfjs'; dir: string; files: string[]; metrics: Metrics }>
  dispose?(): Promise<void> | void
}

export interface TfjsEvaluatorOptions {
  /** A dataset, a built-in name, or a function returning one (called once, lazily). */
  dataset: Dataset | 'mnist' | 'fashion-mnist' | (() => Dataset)
  /** The architecture's search space (default: inferred from the value's shape). */
  space?: SpaceName
  /** Per-space builder options (base channels, cells, resolution override...). */
  build?: BuildOptions
  /** Epochs per trial (default 1); `ctx.fidelity.epochs` overrides it. */
  epochs?: number
  batchSize?: number
  optimizer?: OptimizerName
  learningRate?: number
  momentum?: number
  weightDecay?: number
  schedule?: 'cosine' | 'constant'
  minLearningRate?: number
  gradClipNorm?: number
  divergenceThreshold?: number
  /** Split and subset sizes (validation, train, test). The seed comes from the trial. */
  split?: Omit<SplitOptions, 'seed' | 'dataFraction'>
  /** Resize dataset images before the network (e.g. [32, 32]). */
  resize?: [number, number]
  /** tfjs backend, chosen on first use (default: option, `NASKIT_BACKEND`, then auto). */
  backend?: BackendChoice
  /** Batch size and repetitions for the latency figure (defaults: batchSize, 5). */
  latencyBatchSize?: number
  latencyRepeats?: number
  /** Save each trained model (tfjs format) under this folder, one sub-folder per trial. */
  exportDir?: string | ((trialId: number) => string)
}

/**
 * The TensorFlow.js evaluator: builds the network of an architecture, trains it on the
 * dataset, and reports `objective` = validation accuracy, plus test accuracy, parameters,
 * FLOPs (multiply-accumulates), median inference latency per batch and training time.
 * Every tensor a trial creates is released when it ends, also when it fails.
 */
export function tfjsEvaluator(options: TfjsEvaluatorOptions): Evaluator {
  let dataset: Dataset | null = null
  let backendName: string | null = null
  const getDataset = (): Dataset => {
    if (dataset) return dataset
    const d = options.dataset
    dataset =
      d === 'mnist'
        ? loadMnist()
        : d === 'fashion-mnist'
          ? loadFashionMnist()
          : typeof d === 'function'
            ? d()
            : d
    return dataset
  }
  /** Trains and measures one architecture; saves the model to `saveTo` when given. */
  const run = async (arch: unknown, ctx: EvalContext, saveTo: string | null): Promise<Metrics> => {
    if (backendName === null) {
      backendName = (await selectBackend({ backend: options.backend })).backend
    }
    if (ctx.signal?.aborted)
      throw new NaskitError('E_ABORTED', 'The trial was aborted before it started')
    const ds = getDataset()
    const epochs = ctx.fidelity?.epochs ?? options.epochs ?? 1
    const batchSize = options.batchSize ?? 64
    if (!(Number.isInteger(epochs) && epochs >= 0)) {
      throw new NaskitError('E_BAD_OPTIONS', `epochs must be a non-negative integer, got ${epochs}`)
    }
    const splits = splitDataset(ds, {
      validationSize: Math.min(5000, Math.round(ds.train.count * 0.1)),
      ...options.split,
      seed: ctx.seed,
      dataFraction: ctx.fidelity?.dataFraction,
    })
    const space = options.space ?? inferSpace(arch)
    const inputShape: [number, number, number] = options.resize
      ? [options.resize[0], options.resize[1], ds.imageShape[2]]
      : ds.imageShape
    const build: BuildOptions = {
      ...options.build,
      inputShape,
      numClasses: ds.numClasses,
      seed: ctx.seed,
    }
    const before = tf.memory().numTensors
    const net = buildNetwork(arch, build, space)
    try {
      const train = await trainNetwork(net, splits.train, {
        epochs,
        batchSize,
        optimizer: options.optimizer,
        learningRate: options.learningRate,
        momentum: options.momentum,
        weightDecay: options.weightDecay,
        schedule: options.schedule,
        minLearningRate: options.minLearningRate,
        gradClipNorm: options.gradClipNorm,
        divergenceThreshold: options.divergenceThreshold,
        resize: options.resize,
        seed: ctx.seed,
        signal: ctx.signal,
        onProgress: (p) =>
          ctx.progress?.({
            fraction: p.fraction * 0.95,
            message: `epoch ${p.epoch + 1}/${epochs} loss ${p.loss.toFixed(4)}`,
          }),
      })
      const evalBatch = Math.max(batchSize, 256)
      const valAcc = evaluateAccuracy(net, splits.validation, evalBatch, options.resize)
      const testAcc = evaluateAccuracy(net, splits.test, evalBatch, options.resize)
      const latency = measureLatency(
        net,
        options.latencyBatchSize ?? batchSize,
        options.latencyRepeats ?? 5,
      )
      let exportPath: string | null = saveTo
      if (exportPath === null && options.exportDir !== undefined) {
        exportPath =
          typeof options.exportDir === 'function'
            ? options.exportDir(ctx.trialId)
            : `${options.exportDir}/trial-${ctx.trialId}`
      }
      if (exportPath !== null) await saveNetwork(net, exportPath, { arch, space, build })
      ctx.progress?.({ fraction: 1, message: 'done' })
      return {
        objective: Number.isNaN(valAcc) ? 0 : valAcc,
        val_accuracy: Number.isNaN(valAcc) ? null : valAcc,
        test_accuracy: Number.isNaN(testAcc) ? null : testAcc,
        params: net.paramCount(),
        flops: net.flops(),
        latency_ms: latency,
        train_time_ms: train.trainTimeMs,
        images_per_second: train.imagesPerSecond,
        final_loss: Number.isNaN(train.finalLoss) ? null : train.finalLoss,
        epochs,
        train_images: splits.train.indices.length,
        backend: backendName,
        export_path: exportPath,
      }
    } finally {
      net.dispose()
      const leaked = tf.memory().numTensors - before
      if (leaked > 0 && process.env.NASKIT_DEBUG_LEAKS) {
        console.warn(`naskit: trial ${ctx.trialId} left ${leaked} tensors`)
      }
    }
  }
  return {
    name: 'tfjs',
    evaluate: (arch: unknown, ctx: EvalContext) => run(arch, ctx, null),
    async exportModel(arch: unknown, ctx: EvalContext & { dir: string; format: string }) {
      if (ctx.format !== 'tfjs') {
        throw new NaskitError(
          'E_BAD_OPTIONS',
          `The TensorFlow.js evaluator exports models as "tfjs", not "${ctx.format}".`,
        )
      }
      const metrics = await run(arch, ctx, ctx.dir)
      const files = readdirSync(ctx.dir).sort()
      return { format: 'tfjs', dir: ctx.dir, files, metrics }
    },
  }
}
