import {
  type Arch,
  type EvalContext,
  type Evaluator,
  type Metrics,
  NaskitError,
  Rng,
} from '@naskit/core'
import * as tf from '@tensorflow/tfjs'
import type { Supernet } from './supernet'
import { batches, createDataRng, recalibrateBatchNorms, type SplitView } from './trainer'

/** A batch kept in memory for repeated evaluation. */
export interface HeldBatch {
  x: tf.Tensor4D
  y: tf.Tensor1D
}

/** Materialises up to `maxImages` images of a view as batches (the caller disposes them). */
export function holdBatches(
  view: SplitView,
  options: { batchSize: number; maxImages?: number; resize?: [number, number]; seed?: number },
): HeldBatch[] {
  const out: HeldBatch[] = []
  const limit = options.maxImages ?? view.indices.length
  const sub: SplitView = { ...view, indices: view.indices.slice(0, limit) }
  const rng = options.seed === undefined ? undefined : createDataRng(options.seed)
  for (const b of batches(sub, { batchSize: options.batchSize, resize: options.resize, rng }))
    out.push({ x: b.x, y: b.y })
  return out
}

/**
 * Recalibrates the batch-norm statistics of `arch`'s path: its running means and variances
 * become the exact averages of the batch statistics over `calibration` (the trainer's
 * `recalibrateBatchNorms`, running the path in training mode). Batch norms off the path keep
 * their statistics. Weights do not change.
 */
export function recalibrateBatchNorm(
  supernet: Supernet,
  arch: Arch,
  calibration: readonly HeldBatch[],
): void {
  recalibrateBatchNorms(supernet.batchNorms(), calibration, (b) => {
    supernet.forward(b.x, arch, true)
  })
}

/** Top-1 accuracy of `arch`'s subnet (evaluation mode) on held batches, in [0, 1]. */
export function subnetAccuracy(supernet: Supernet, arch: Arch, data: readonly HeldBatch[]): number {
  let correct = 0
  let total = 0
  for (const b of data) {
    correct += tf.tidy(() => {
      const pred = tf.argMax(supernet.forward(b.x, arch, false), 1)
      return tf.sum(tf.cast(tf.equal(pred, b.y), 'int32')).dataSync()[0] as number
    })
    total += b.y.shape[0]
  }
  return total === 0 ? Number.NaN : correct / total
}

/** Options of {@link supernetEvaluator}. */
export interface SupernetEvaluatorOptions {
  /** Training images whose batches recalibrate the batch norms of every candidate. */
  calibration: SplitView
  /** Images on which a candidate's accuracy is measured. */
  validation: SplitView
  /** Batches used to recalibrate the batch norms per candidate. @default 4 */
  calibrationBatches?: number
  /** @default 64 */
  batchSize?: number
  /** At most this many validation images. @default all */
  maxValidation?: number
  resize?: [number, number]
  seed?: number
}

/** An evaluator over a trained supernet; `dispose` releases the batches it holds. */
export interface SupernetEvaluator extends Evaluator {
  /** Candidates evaluated (cache misses). */
  readonly evaluations: number
  /** The context is optional: only its abort signal is read. */
  evaluate(arch: Arch, ctx?: Partial<EvalContext>): Metrics
  dispose(): void
}

/**
 * The inherited-weight evaluator: a candidate's objective is the validation accuracy of its
 * subnet with the supernet's weights, after its batch norms were recalibrated on a few
 * training batches. Results are cached by architecture key. Any sampling strategy can drive
 * it (through `simpleSearch` or a runner).
 */
export function supernetEvaluator(
  supernet: Supernet,
  options: SupernetEvaluatorOptions,
): SupernetEvaluator {
  const bs = options.batchSize ?? 64
  const calibration = holdBatches(options.calibration, {
    batchSize: bs,
    maxImages: bs * (options.calibrationBatches ?? 4),
    resize: options.resize,
    seed: new Rng(options.seed ?? 0).fork('supernet:calibration').seed(),
  })
  const validation = holdBatches(options.validation, {
    batchSize: Math.max(bs, 256),
    maxImages: options.maxValidation,
    resize: options.resize,
  })
  const cache = new Map<string, Metrics>()
  let evaluations = 0
  let disposed = false
  return {
    name: 'supernet',
    get evaluations() {
      return evaluations
    },
    evaluate(arch: Arch, ctx?: Partial<EvalContext>): Metrics {
      if (disposed) throw new NaskitError('E_BAD_STATE', 'This supernet evaluator was disposed.')
      if (ctx?.signal?.aborted) throw new NaskitError('E_ABORTED', 'The evaluation was aborted.')
      const space = supernet.space
      const a = space.validate(arch)
      const key = space.key(a)
      const hit = cache.get(key)
      if (hit) return { ...hit }
      const t0 = performance.now()
      recalibrateBatchNorm(supernet, a, calibration)
      const acc = subnetAccuracy(supernet, a, validation)
      evaluations++
      const m: Metrics = {
        objective: acc,
        inherited_accuracy: acc,
        eval_time_ms: performance.now() - t0,
      }
      cache.set(key, m)
      return { ...m }
    },
    dispose() {
      if (disposed) return
      disposed = true
      for (const b of [...calibration, ...validation]) {
        b.x.dispose()
        b.y.dispose()
      }
    },
  }
}
