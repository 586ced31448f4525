import { type Arch, NaskitError, type SearchSpace } from '@naskit/core'
import * as tf from '@tensorflow/tfjs'
import {
  type BatchNorm,
  type BuildOptions,
  batchNorms,
  Module,
  type NamedVariable,
} from './trainer'

/** The space families a supernet can be built for. */
export type SupernetKind = 'nb201' | 'chain' | 'nasnet'

/** One choice of the supernet that holds weights of its own: a layer or an edge and its ops. */
export interface SupernetSlot {
  /** Stable name, e.g. `cell.2.1` (edge 1→2) or `layers.3`. */
  id: string
  /** The candidate operations, each with its own weights. */
  ops: readonly string[]
}

/** A holder for sub-modules: the root of a supernet's module tree. */
export class ModuleList extends Module {
  add<M extends Module<tf.Tensor>>(name: string, m: M): M {
    return this.addModule(name, m)
  }

  forward(x: tf.Tensor4D): tf.Tensor4D {
    return x
  }
}

/**
 * When a supernet splits during training (a few-shot supernet into its copies): after
 * `epoch` completed epochs the trainer calls {@link Supernet.splitNow}, and its learning rate,
 * annealed to the floor by then, runs a second cosine cycle from `learningRate`.
 */
export interface SupernetSplit {
  /** Completed training epochs after which the supernet splits. */
  epoch: number
  /** Where the second cycle starts. @default 0.4 × the trainer's learningRate */
  learningRate?: number
}

/**
 * A weight-sharing supernet: one set of weights per (layer or edge, op), widths sharing the
 * widest layer's weights through channel slices. `forward(x, arch)` runs only the operations
 * that the architecture selects, so training a sampled architecture updates only its path.
 *
 * A supernet may split during training ({@link Supernet.splitPlan}); the trainer drives it
 * through these methods alone, which do nothing for a supernet that never splits.
 */
export abstract class Supernet {
  abstract readonly kind: SupernetKind
  readonly root = new ModuleList()
  private bnCache: BatchNorm[] | null = null
  private disposed = false

  constructor(
    readonly space: SearchSpace,
    readonly inputShape: [number, number, number],
    readonly numClasses: number,
  ) {}

  /** Logits of `arch`'s subnet on NHWC images `x`; `training` uses batch statistics. */
  forward(x: tf.Tensor4D, arch: Arch, training = false): tf.Tensor2D {
    if (this.disposed)
      throw new NaskitError('E_BAD_STATE', 'This supernet was disposed; build a new one.')
    return this.run(x, arch, training)
  }

  protected abstract run(x: tf.Tensor4D, arch: Arch, training: boolean): tf.Tensor2D

  /** The layers or edges with weights per op. */
  abstract slots(): SupernetSlot[]

  /**
   * Options for `buildNetwork` of @naskit/trainer-tfjs that build an architecture's
   * stand-alone network with the supernet's structure (for retraining from scratch).
   */
  abstract buildOptions(): BuildOptions

  /** Every variable with a stable path name (weights and batch-norm statistics). */
  namedVariables(): NamedVariable[] {
    return this.root.namedVariables()
  }

  trainableVariables(): tf.Variable[] {
    return this.root.trainableVariables()
  }

  /** Trainable scalars of the whole supernet. */
  paramCount(): number {
    return this.root.paramCount()
  }

  /** The batch norms of the supernet (recalibrated per candidate before evaluation). */
  batchNorms(): BatchNorm[] {
    if (this.bnCache === null) this.bnCache = batchNorms(this.root)
    return this.bnCache
  }

  /** When this supernet splits during training, or null (the default: it never does). */
  splitPlan(): SupernetSplit | null {
    return null
  }

  /** True once the supernet has split (always false for one that never splits). */
  get isSplit(): boolean {
    return false
  }

  /** Splits the supernet now, its trained weights copied into every part; idempotent. */
  splitNow(): void {}

  /** Marks the supernet as split without copying (its weights come from a checkpoint). */
  markSplit(): void {}

  /** Releases every variable of the supernet. */
  dispose(): void {
    if (this.disposed) return
    this.disposed = true
    this.root.dispose()
    this.disposeExtra()
  }

  isDisposed(): boolean {
    return this.disposed
  }

  protected disposeExtra(): void {}
}

/**
 * Channel masks: the first `active` of `max` channels are kept, the rest set to zero, so a
 * narrower layer is the widest layer's weights restricted to a channel slice.
 */
export class ChannelMasks {
  private readonly cache = new Map<string, tf.Tensor4D>()

  apply(x: tf.Tensor4D, active: number): tf.Tensor4D {
    const max = x.shape[3]
    if (active >= max) return x
    const key = `${max}:${active}`
    let m = this.cache.get(key)
    if (m === undefined) {
      const data = new Float32Array(max)
      data.fill(1, 0, active)
      m = tf.keep(tf.tensor4d(data, [1, 1, 1, max]))
      this.cache.set(key, m)
    }
    return tf.mul(x, m)
  }

  dispose(): void {
    for (const m of this.cache.values()) m.dispose()
    this.cache.clear()
  }
}
