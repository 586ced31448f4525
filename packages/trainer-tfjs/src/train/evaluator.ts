import { readdirSync } from 'node:fs'
import type { EvalContext, Evaluator, ExportedModel, Metrics } from '@naskit/core'
import * as tf from '@tensorflow/tfjs'
import { type BackendChoice, selectBackend } from '../backend.js'
import { type Dataset, type SplitOptions, splitDataset } from '../data/dataset.js'
import { loadFashionMnist, loadMnist } from '../data/mnist.js'
import { NaskitError } from '../errors.js'
import {
  type BuildOptions,
  buildNetwork,
  ChainNetwork,
  inferSpace,
  type SpaceName,
} from '../models/index.js'
import type { Network } from '../models/network.js'
import { inputPipeline, saveLayersModel } from '../export/index.js'
import {
  backendMemoryLimit,
  estimateMemory,
  formatBytes,
  inferenceBatchWithin,
  type MemoryEstimate,
  measureFootprint,
  trainingBytesPerImage,
} from './memory.js'
import { evaluateAccuracy, measureLatency, type OptimizerName, trainNetwork } from './trainer.js'

/**
 * What {@link TfjsEvaluator} reads of core's `EvalContext`: the trial id and seed; the
 * fidelity, abort signal and progress callback when given. A host's full context fits.
 */
export type TfjsEvalContext = Pick<EvalContext, 'trialId' | 'seed'> &
  Partial<Pick<EvalContext, 'fidelity' | 'signal' | 'progress'>>

/**
 * Core's `Evaluator`, callable with a {@link TfjsEvalContext}, that always exports models (as
 * `tfjs`: model.json + weights).
 */
export interface TfjsEvaluator extends Evaluator {
  evaluate(arch: unknown, ctx: TfjsEvalContext): Promise<Metrics>
  /** Trains as `evaluate` does and saves the model (model.json + weights) into `ctx.dir`. */
  exportModel(
    arch: unknown,
    ctx: TfjsEvalContext & { dir: string; format: string },
  ): Promise<ExportedModel & { format: 'tfjs' }>
}

export interface TfjsEvaluatorOptions {
  /**
   * A dataset, a built-in name, or a function returning one or a promise of one (called once,
   * lazily, e.g. `() => loadImageFolder('./photos')`).
   */
  dataset: Dataset | 'mnist' | 'fashion-mnist' | (() => Dataset | Promise<Dataset>)
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
  /** Share of the steps spent warming the learning rate up (default 0.1). */
  warmupFraction?: number
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
  /**
   * Bytes a trial may plan to use (default: 85% of the 4 GiB WebAssembly memory on `wasm`,
   * at most half the machine's memory; half the machine's memory on the other backends).
   * Before training, the trial's peak memory is estimated from its network; a chain
   * architecture whose resolution does not fit is trained at the dataset's image size
   * instead, anything else that does not fit fails with `E_TOO_LARGE`. `Infinity` turns the
   * check off.
   */
  memoryLimit?: number
  /** Where notices go (default `console.warn`); the runner plugins pass the host's logger. */
  log?: { warn(message: string): void }
  /**
   * @internal How messages name the options to change (the runner plugins have flat names).
   */
  optionNames?: { resolution?: string; batchSize?: string; size?: string }
}

/**
 * The training recipe of a trial when the options do not say otherwise: momentum SGD at
 * learning rate 0.1, batches of 16, a warm-up over the first 10 % of the steps, then cosine
 * annealing, weight decay 3e-4, gradient clipping at 5. Chosen for short budgets by
 * `bench/recipe.bench.ts` (one epoch of 10,000 MNIST images; results in bench/results/).
 */
export const DEFAULT_RECIPE = { batchSize: 16, learningRate: 0.1, warmupFraction: 0.1 } as const

/** How a dataset's images are named in messages. */
function imagesLabel(ds: Dataset, resized: boolean): string {
  if (resized) return 'the resized images’'
  if (ds.name === 'mnist') return 'MNIST’s'
  if (ds.name === 'fashion-mnist') return 'Fashion-MNIST’s'
  return 'the dataset’s'
}

function tooLarge(message: string, details: Record<string, unknown>): NaskitError {
  return new NaskitError('E_TOO_LARGE', message, { details })
}

/**
 * The TensorFlow.js evaluator: builds the network of an architecture, trains it on the
 * dataset, and reports `objective` = validation accuracy, plus test accuracy, parameters,
 * FLOPs (multiply-accumulates), median inference latency per batch and training time.
 * Every tensor a trial creates is released when it ends, also when it fails.
 */
export function tfjsEvaluator(options: TfjsEvaluatorOptions): TfjsEvaluator {
  let dataset: Dataset | null = null
  let backendName: string | null = null
  let fallbackNoted = false
  let noTestNoted = false
  const log = options.log ?? { warn: (message: string) => console.warn(message) }
  const names = {
    resolution: options.optionNames?.resolution ?? 'build.chain.resolution',
    batchSize: options.optionNames?.batchSize ?? 'batchSize',
    size: options.optionNames?.size ?? 'the build options',
  }
  let loading: Promise<Dataset> | null = null
  const getDataset = async (): Promise<Dataset> => {
    if (dataset) return dataset
    const d = options.dataset
    if (typeof d === 'function') {
      loading ??= Promise.resolve(d())
      dataset = await loading
    } else dataset = d === 'mnist' ? loadMnist() : d === 'fashion-mnist' ? loadFashionMnist() : d
    return dataset
  }
  /** Trains and measures one architecture; saves the model to `saveTo` when given. */
  const run = async (
    arch: unknown,
    ctx: TfjsEvalContext,
    saveTo: string | null,
  ): Promise<Metrics> => {
    if (backendName === null) {
      backendName = (await selectBackend({ backend: options.backend })).backend
    }
    if (ctx.signal?.aborted)
      throw new NaskitError('E_ABORTED', 'The trial was aborted before it started')
    const ds = await getDataset()
    const epochs = ctx.fidelity?.epochs ?? options.epochs ?? 1
    const batchSize = options.batchSize ?? DEFAULT_RECIPE.batchSize
    if (!(Number.isInteger(epochs) && epochs >= 0)) {
      throw new NaskitError('E_BAD_OPTIONS', `epochs must be a non-negative integer, got ${epochs}`)
    }
    const splits = splitDataset(ds, {
      ...(options.split?.validationFraction === undefined
        ? { validationSize: Math.min(5000, Math.round(ds.train.count * 0.1)) }
        : {}),
      ...options.split,
      seed: ctx.seed,
      dataFraction: ctx.fidelity?.dataFraction,
    })
    if (ds.test.count === 0 && !noTestNoted) {
      noTestNoted = true
      log.warn(
        `naskit: dataset "${ds.name}" has no test set, so test_accuracy is not measured; give test images (testImages/testLabels or testFraction of datasetFromArrays, a test/ folder or the testFraction option of a data folder)`,
      )
    }
    const space = options.space ?? inferSpace(arch)
    const inputShape: [number, number, number] = options.resize
      ? [options.resize[0], options.resize[1], ds.imageShape[2]]
      : ds.imageShape
    let build: BuildOptions = {
      ...options.build,
      inputShape,
      numClasses: ds.numClasses,
      seed: ctx.seed,
    }
    const limit = options.memoryLimit ?? backendMemoryLimit(backendName)
    if (!(limit > 0)) {
      throw new NaskitError(
        'E_BAD_OPTIONS',
        `memoryLimit must be a positive number of bytes (or Infinity), got ${options.memoryLimit}`,
      )
    }
    // the accuracy figures run in batches of 256 (or the training batch size, if larger)
    const evalBatchWanted = Math.max(
      1,
      Math.min(
        Math.max(batchSize, 256),
        Math.max(splits.validation.indices.length, splits.test.indices.length),
      ),
    )
    const latencyBatch = options.latencyBatchSize ?? batchSize
    /**
     * The trial's estimated memory, with the largest evaluation batch that fits. A training
     * step on one image is measured only when a lower bound does not already exceed the limit.
     */
    const fit = async (
      n: Network,
    ): Promise<{ estimate: MemoryEstimate | null; evalBatch: number }> => {
      if (limit === Number.POSITIVE_INFINITY) return { estimate: null, evalBatch: evalBatchWanted }
      const footprint = await measureFootprint(n)
      const evalBatch = inferenceBatchWithin(limit, footprint, evalBatchWanted)
      const sizes = {
        batchSize,
        optimizer: options.optimizer,
        inferenceBatchSize: Math.max(evalBatch, latencyBatch),
      }
      let estimate = estimateMemory(footprint, sizes)
      if (estimate.bytes <= limit) {
        footprint.trainingBytesPerImage = await trainingBytesPerImage(n)
        estimate = estimateMemory(footprint, sizes)
      }
      return { estimate, evalBatch }
    }
    const needs = (e: MemoryEstimate) => `${e.atLeast ? 'at least ' : '~'}${formatBytes(e.bytes)}`
    const before = tf.memory().numTensors
    let net: Network | null = null
    try {
      net = buildNetwork(arch, build, space)
      let { estimate, evalBatch } = await fit(net)
      if (estimate !== null && estimate.bytes > limit) {
        const native = Math.max(inputShape[0], inputShape[1])
        const chainRes = options.build?.chain?.resolution
        const fromArch = chainRes === undefined || chainRes === 'arch'
        const images = `${imagesLabel(ds, options.resize !== undefined)} ${native} px`
        if (!(net instanceof ChainNetwork)) {
          throw tooLarge(
            `A ${space} network needs ${needs(estimate)} to train at batch size ${batchSize} on ${backendName} (estimated; the limit is ${formatBytes(limit)}). Lower the evaluator option ${names.batchSize}, or make the network smaller (${names.size}).`,
            { estimate, limit, batchSize, backend: backendName },
          )
        }
        const res = net.resolution
        if (!fromArch || res <= native) {
          const smaller =
            res > native
              ? `set the evaluator option ${names.resolution} lower (the images are ${native} px)`
              : fromArch
                ? "narrow the space's resolution range"
                : `set the evaluator option ${names.resolution} lower`
          throw tooLarge(
            `A chain architecture at resolution ${res} px needs ${needs(estimate)} to train at batch size ${batchSize} on ${backendName} (estimated; the limit is ${formatBytes(limit)}). Lower the evaluator option ${names.batchSize}, or ${smaller}.`,
            { resolution: res, estimate, limit, batchSize, backend: backendName },
          )
        }
        // Resizing small images up adds no information: train at their own size instead.
        const needed = estimate
        net.dispose()
        net = null
        build = { ...build, chain: { ...build.chain, resolution: native } }
        net = buildNetwork(arch, build, space)
        ;({ estimate, evalBatch } = await fit(net))
        if (estimate !== null && estimate.bytes > limit) {
          throw tooLarge(
            `A chain architecture needs ${needs(estimate)} to train at batch size ${batchSize} on ${backendName} even at ${images} (estimated; the limit is ${formatBytes(limit)}; at its resolution of ${res} px: ${needs(needed)}). Lower the evaluator option ${names.batchSize}.`,
            { resolution: res, estimate, limit, batchSize, backend: backendName },
          )
        }
        if (!fallbackNoted) {
          fallbackNoted = true
          log.warn(
            `naskit: chain resolution ${res} px needs ${needs(needed)} to train at batch size ${batchSize} on ${backendName} (estimated; limit ${formatBytes(limit)}); training such architectures at ${images} instead (metric trained_resolution) — set the evaluator option ${names.resolution} to choose the resolution, or narrow the space's resolution range`,
          )
        }
      }
      const train = await trainNetwork(net, splits.train, {
        epochs,
        batchSize,
        optimizer: options.optimizer,
        learningRate:
          options.learningRate ??
          ((options.optimizer ?? 'momentum') === 'adam' ? undefined : DEFAULT_RECIPE.learningRate),
        warmupFraction: options.warmupFraction ?? DEFAULT_RECIPE.warmupFraction,
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
      if (exportPath !== null) {
        await saveLayersModel(net, exportPath, {
          arch,
          space,
          build,
          input: inputPipeline(ds, options.resize),
          classNames: ds.classNames,
        })
      }
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
        trained_resolution: net instanceof ChainNetwork ? net.resolution : inputShape[0],
        memory_estimate_mib:
          estimate === null ? null : Math.round((estimate.bytes / 2 ** 20) * 10) / 10,
        backend: backendName,
        export_path: exportPath,
      }
    } finally {
      net?.dispose()
      const leaked = tf.memory().numTensors - before
      if (leaked > 0 && process.env.NASKIT_DEBUG_LEAKS) {
        console.warn(`naskit: trial ${ctx.trialId} left ${leaked} tensors`)
      }
    }
  }
  return {
    name: 'tfjs',
    evaluate: (arch: unknown, ctx: TfjsEvalContext) => run(arch, ctx, null),
    async exportModel(arch: unknown, ctx: TfjsEvalContext & { dir: string; format: string }) {
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
