import { totalmem } from 'node:os'
import * as tf from '@tensorflow/tfjs'
import type { Network } from '../models/network.js'
import { batchNorms } from '../ops/primitives.js'
import type { OptimizerName } from './trainer.js'

/**
 * The WebAssembly memory maximum of `@tensorflow/tfjs-backend-wasm` 4.22: 65,536 pages of
 * 64 KiB, as declared by the memory section of each of its `.wasm` binaries (its JavaScript
 * glue caps the heap at 4 GiB − 64 KiB). An allocation beyond it aborts the wasm module, and
 * every later kernel of that module fails with `memory access out of bounds`.
 */
export const WASM_MEMORY_MAXIMUM = 4 * 2 ** 30

/**
 * Share of {@link WASM_MEMORY_MAXIMUM} a trial may plan to use: the rest absorbs the heap's
 * fragmentation across trials and the allocator's growth steps.
 */
export const WASM_MEMORY_SHARE = 0.85

/** Share of the machine's memory a trial may plan to use on the other backends. */
export const HOST_MEMORY_SHARE = 0.5

/**
 * Memory the backend really takes per byte of tensors: the wasm heap grew by 0.5–1.24× the
 * tensor bytes a training or inference batch peaked at (chain networks of 24–144 px, 5 MiB to
 * 3.8 GiB of heap); the rest is headroom.
 */
export const HEAP_FACTOR = 1.25

/**
 * Lower bound of the ratio between the peak tensor bytes of a training step and those of a
 * forward pass, per image (measured 2.7× for attention-heavy to 11× for pooling-heavy chain
 * networks): the backward pass keeps the gradient of every intermediate tensor until it ends.
 * Used to reject networks without measuring a training step.
 */
export const MIN_TRAINING_RATIO = 2

/** Optimizer slots per trainable scalar. */
const OPTIMIZER_SLOTS: Record<OptimizerName, number> = { sgd: 0, momentum: 1, adam: 2 }

/**
 * Copies of the trainable variables a training step holds besides the variables themselves
 * after the backward pass: the gradients, the gradients with weight decay, the clipped
 * gradients and their squares (for the global norm).
 */
const GRADIENT_COPIES = 4

/**
 * The memory a trial may plan to use on a backend: on `wasm` a share of the WebAssembly
 * memory maximum (and at most half the machine's memory), elsewhere half the machine's
 * memory (`tensorflow-gpu` included: the GPU's memory is not known here).
 */
export function backendMemoryLimit(backend: string, machineBytes: number = totalmem()): number {
  const host = machineBytes * HOST_MEMORY_SHARE
  if (backend === 'wasm') return Math.min(WASM_MEMORY_MAXIMUM * WASM_MEMORY_SHARE, host)
  return host
}

/** The sizes of a network that its memory needs follow from. */
export interface NetworkFootprint {
  /** Bytes of the network's variables (weights and batch-norm statistics). */
  variableBytes: number
  /** Bytes of the trainable variables (gradients and optimizer slots have their size). */
  trainableBytes: number
  /** Peak tensor bytes of a forward pass on one image (evaluation mode; see {@link inferenceBytesPerImage}). */
  inferenceBytesPerImage: number
  /**
   * Peak tensor bytes of a forward and backward pass on one image (see
   * {@link trainingBytesPerImage}); `null` when not measured, then the estimate of a training
   * step is a lower bound.
   */
  trainingBytesPerImage: number | null
}

export interface MemoryEstimateOptions {
  batchSize: number
  /** Default `momentum`. */
  optimizer?: OptimizerName
  /** Largest inference batch of the trial (accuracy evaluation, latency); default `batchSize`. */
  inferenceBatchSize?: number
}

export interface MemoryEstimate {
  /** Peak bytes of a training step. */
  training: number
  /** Peak bytes of the largest inference batch. */
  inference: number
  /** The larger of the two: what the trial needs. */
  bytes: number
  /** True when the training step was not measured and `training` is a lower bound. */
  atLeast: boolean
}

/**
 * Estimated peak memory of a trial (bytes). Tensor memory grows linearly with the batch (the
 * peak of a training step at batch B is B times the peak at batch 1, to within 1% for chain
 * networks), and the parameter-sized tensors of a step do not grow with it.
 */
export function estimateMemory(
  footprint: NetworkFootprint,
  options: MemoryEstimateOptions,
): MemoryEstimate {
  const slots = OPTIMIZER_SLOTS[options.optimizer ?? 'momentum']
  const forward = footprint.inferenceBytesPerImage
  const measured = footprint.trainingBytesPerImage
  const perImage =
    measured === null
      ? forward * MIN_TRAINING_RATIO
      : // the measured peak includes at most one gradient of each weight
        Math.max(measured - footprint.trainableBytes, forward) * HEAP_FACTOR
  const training =
    footprint.variableBytes +
    footprint.trainableBytes * (GRADIENT_COPIES + slots) +
    options.batchSize * perImage
  const inference =
    footprint.variableBytes +
    (options.inferenceBatchSize ?? options.batchSize) * forward * HEAP_FACTOR
  return {
    training,
    inference,
    bytes: Math.max(training, inference),
    atLeast: measured === null,
  }
}

/**
 * The largest inference batch (at most `wanted`, at least 1) whose estimated memory stays
 * within `limit`.
 */
export function inferenceBatchWithin(
  limit: number,
  footprint: Pick<NetworkFootprint, 'variableBytes' | 'inferenceBytesPerImage'>,
  wanted: number,
): number {
  const perImage = footprint.inferenceBytesPerImage * HEAP_FACTOR
  if (!(perImage > 0) || !Number.isFinite(limit)) return wanted
  const fits = Math.floor((limit - footprint.variableBytes) / perImage)
  return Math.max(1, Math.min(wanted, fits))
}

/**
 * Bytes of every tensor a forward pass of the network on one image creates, in evaluation
 * mode, where all of them live until the pass ends (as in the accuracy and latency figures).
 * It runs that pass once; running batch-norm statistics are read, not updated.
 */
export function inferenceBytesPerImage(net: Network): number {
  const start = tf.memory().numBytes
  let bytes = 0
  tf.tidy(() => {
    net.apply(tf.zeros([1, ...net.inputShape]) as tf.Tensor4D, false)
    bytes = tf.memory().numBytes - start
  })
  return bytes
}

/**
 * Peak tensor bytes of the forward and backward pass of a training step on one image (the
 * gradients of the weights included, the optimizer not). It runs that step once without
 * updating anything: the batch-norm statistics it records are put back.
 */
export async function trainingBytesPerImage(net: Network): Promise<number> {
  const bns = batchNorms(net)
  const tracked = bns.map((b) => b.batchesTracked)
  const stats = net
    .namedVariables()
    .filter((v) => !v.trainable)
    .map((v) => ({ variable: v.variable, saved: tf.clone(v.variable) }))
  const vars = net.trainableVariables()
  const start = tf.memory().numBytes
  try {
    const profile = await tf.profile(() => {
      tf.tidy(() => {
        const x = tf.zeros([1, ...net.inputShape]) as tf.Tensor4D
        const labels = tf.oneHot(tf.tensor1d([0], 'int32'), net.numClasses)
        tf.variableGrads(
          () => tf.losses.softmaxCrossEntropy(labels, net.apply(x, true)) as tf.Scalar,
          vars,
        )
      })
    })
    return Math.max(0, profile.peakBytes - start)
  } finally {
    for (const s of stats) {
      s.variable.assign(s.saved)
      s.saved.dispose()
    }
    bns.forEach((b, i) => {
      b.batchesTracked = tracked[i]!
    })
  }
}

/**
 * The footprint of a built network. With `training: true` it also measures a training step
 * on one image (a forward and a backward pass, several times the cost of the forward pass).
 */
export async function measureFootprint(
  net: Network,
  options: { training?: boolean } = {},
): Promise<NetworkFootprint> {
  let variableBytes = 0
  let trainableBytes = 0
  for (const v of net.namedVariables()) {
    const bytes = v.variable.size * 4
    variableBytes += bytes
    if (v.trainable) trainableBytes += bytes
  }
  return {
    variableBytes,
    trainableBytes,
    inferenceBytesPerImage: inferenceBytesPerImage(net),
    trainingBytesPerImage: options.training ? await trainingBytesPerImage(net) : null,
  }
}

/** `3.43 GiB`, `12.5 GiB`, `320 MiB`, `12 KiB`. */
export function formatBytes(bytes: number): string {
  const gib = bytes / 2 ** 30
  if (gib >= 10) return `${gib.toFixed(1)} GiB`
  if (gib >= 1) return `${gib.toFixed(2)} GiB`
  if (bytes >= 2 ** 20) return `${Math.round(bytes / 2 ** 20)} MiB`
  return `${Math.max(1, Math.round(bytes / 2 ** 10))} KiB`
}
