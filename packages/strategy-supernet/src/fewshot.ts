import { type Arch, NaskitError, Rng } from '@naskit/core'
import type * as tf from '@tensorflow/tfjs'
import { Supernet, type SupernetSlot, type SupernetSplit } from './supernet'
import type { BuildOptions } from './trainer'
import { loadWeights, saveWeights } from './weights'

/** Options of a few-shot supernet. */
export interface FewShotOptions {
  /**
   * The decision whose choices split the supernet, as `space.trace` names it (e.g.
   * `cell.3.0.op`, the op of the nb201 edge from the cell input to its output node).
   */
  decision: string
  /** Completed training epochs after which the shared supernet is split. */
  splitEpoch: number
  /**
   * The learning rate the copies start from at the split; the cosine schedule then runs a
   * second cycle from it down to the trainer's floor, so the copies fine-tune the shared
   * weights instead of being kicked away from them. @default 0.4 × the trainer's learningRate
   */
  learningRate?: number
}

/**
 * The decisions of a space that every architecture makes, with their number of choices (over
 * a few samples, so conditional decisions are left out).
 */
export function splittableDecisions(space: Supernet['space']): Map<string, number> {
  const rng = new Rng(0)
  let common: Map<string, number> | null = null
  for (let i = 0; i < 32; i++) {
    const here = new Map(space.trace(space.sample(rng)).map((t) => [t.point.id, t.point.n]))
    if (common === null) common = here
    else for (const id of [...common.keys()]) if (!here.has(id)) common.delete(id)
  }
  return common ?? new Map()
}

/**
 * Few-shot NAS (Zhao et al. 2021): one supernet per choice of one decision, each holding its
 * own copy of all weights. Training starts shared (every architecture runs on the first
 * copy); at {@link FewShotSupernet.splitNow} the trained weights are copied into every copy and
 * from then on an architecture runs on, trains and is evaluated by the copy of its choice,
 * so architectures that differ in that decision no longer share (and fight over) weights.
 */
export class FewShotSupernet extends Supernet {
  readonly kind: Supernet['kind']
  readonly shots: Supernet[]
  readonly options: FewShotOptions
  private split = false

  /** `make(k)` builds the k-th copy; every copy must have the same structure. */
  constructor(make: (shot: number) => Supernet, options: FewShotOptions) {
    const first = make(0)
    super(first.space, first.inputShape, first.numClasses)
    const choices = splittableDecisions(first.space).get(options.decision)
    if (choices === undefined) {
      first.dispose()
      const known = [...splittableDecisions(first.space).keys()]
      throw new NaskitError(
        'E_BAD_OPTIONS',
        `Cannot split the supernet on "${options.decision}": not a decision every architecture of this space makes (use one of ${known.join(', ')}).`,
      )
    }
    if (!(Number.isInteger(options.splitEpoch) && options.splitEpoch >= 0)) {
      first.dispose()
      throw new NaskitError(
        'E_BAD_OPTIONS',
        `fewShot.splitEpoch must be an integer ≥ 0, got ${options.splitEpoch}.`,
      )
    }
    if (options.learningRate !== undefined && !(options.learningRate > 0)) {
      first.dispose()
      throw new NaskitError(
        'E_BAD_OPTIONS',
        `fewShot.learningRate must be > 0, got ${options.learningRate}.`,
      )
    }
    this.kind = first.kind
    this.options = { ...options }
    this.shots = [first]
    for (let k = 1; k < choices; k++) this.shots.push(make(k))
    this.shots.forEach((s, k) => {
      this.root.add(`shot${k}`, s.root)
    })
  }

  /** Splits after `options.splitEpoch` epochs, the copies' cycle starting at `options.learningRate`. */
  override splitPlan(): SupernetSplit {
    const { splitEpoch, learningRate } = this.options
    return { epoch: splitEpoch, ...(learningRate === undefined ? {} : { learningRate }) }
  }

  /** True once the copies train separately. */
  override get isSplit(): boolean {
    return this.split
  }

  /** Copies the shared weights (and batch-norm statistics) into every copy; idempotent. */
  override splitNow(): void {
    if (this.split) return
    const blobs = saveWeights(this.shots[0]!)
    for (const s of this.shots.slice(1)) loadWeights(s, blobs)
    this.split = true
  }

  /** Marks the copies as split without copying (their weights come from a checkpoint). */
  override markSplit(): void {
    this.split = true
  }

  /** The copy an architecture runs on: its choice of the decision once split, else the first. */
  shotOf(arch: Arch): number {
    if (!this.split) return 0
    const t = this.space.trace(arch).find((p) => p.point.id === this.options.decision)
    if (t === undefined) {
      throw new NaskitError(
        'E_INVALID_ARCH',
        `The architecture makes no choice for "${this.options.decision}", the decision this few-shot supernet is split on.`,
      )
    }
    return t.index
  }

  protected run(x: tf.Tensor4D, arch: Arch, training: boolean): tf.Tensor2D {
    return this.shots[this.shotOf(arch)]!.forward(x, arch, training)
  }

  slots(): SupernetSlot[] {
    return this.shots[0]!.slots()
  }

  buildOptions(): BuildOptions {
    return this.shots[0]!.buildOptions()
  }

  protected override disposeExtra(): void {
    for (const s of this.shots) s.dispose()
  }
}
