import { type Arch, type DecisionSpec, NaskitError, type SearchSpace } from '@naskit/core'
import * as tf from '@tensorflow/tfjs'
import { ChannelMasks, Supernet, type SupernetSlot } from './supernet'
import {
  type BuildOptions,
  chainChannels,
  createOp,
  globalAvgPool,
  initContext,
  Linear,
  type Module,
  Stem,
} from './trainer'

/** Options of the chain-space supernet. */
export interface ChainSupernetOptions {
  /** Channels before the width multiplier. @default 16 */
  baseChannels?: number
  numClasses?: number
  /** Shape of the images fed to the network (before resizing). @default [28, 28, 1] */
  inputShape?: [number, number, number]
  /** `'arch'` resizes the input to the architecture's resolution; a number overrides it. @default 'arch' */
  resolution?: 'arch' | number
  /** A reduction (stride 2, channels doubled) every this many layers. @default ceil(max depth / 3) */
  downsample?: number
  /** Attention: attend over at most this many positions. @default 64 */
  maxTokens?: number
  seed?: number
}

interface RangeInfo {
  min: number
  max: number
}

function repeatRange(
  spec: DecisionSpec | undefined,
  name: string,
): RangeInfo & {
  body: Record<string, DecisionSpec>
} {
  if (spec?.type !== 'repeat') {
    throw new NaskitError(
      'E_UNSUPPORTED_SPACE',
      `The supernet needs a repeated "${name}" decision in the space.`,
    )
  }
  return { min: spec.min, max: spec.max, body: spec.body }
}

function numberHigh(spec: DecisionSpec | undefined, fallback: number): number {
  if (spec && (spec.type === 'float' || spec.type === 'int')) return spec.high
  if (spec && spec.type === 'categorical')
    return Math.max(...spec.choices.filter((c): c is number => typeof c === 'number'))
  return fallback
}

/**
 * The chain-space supernet: a stem, `max depth` layers each holding every candidate op, and
 * a classifier, all at the widest width. A shallower architecture runs its first layers; a
 * narrower one uses the first channels of every layer (the others are zero), so all widths
 * share the widest layer's weights. Reductions sit at fixed layers (every `downsample`).
 */
export class ChainSupernet extends Supernet {
  readonly kind = 'chain' as const
  readonly stem: Stem
  readonly layers: Array<Map<string, Module>> = []
  readonly classifier: Linear
  readonly ops: readonly string[]
  readonly maxChannels: number
  readonly downsample: number
  private readonly masks = new ChannelMasks()
  readonly options: { baseChannels: number; resolution: 'arch' | number; maxTokens: number }

  constructor(space: SearchSpace, options: ChainSupernetOptions = {}) {
    super(space, options.inputShape ?? [28, 28, 1], options.numClasses ?? 10)
    const layers = repeatRange(space.decisions.layers, 'layers')
    const opSpec = layers.body.op
    if (opSpec?.type !== 'categorical') {
      throw new NaskitError('E_UNSUPPORTED_SPACE', 'The chain supernet needs layers.*.op choices.')
    }
    this.ops = opSpec.choices.map(String)
    this.options = {
      baseChannels: options.baseChannels ?? 16,
      resolution: options.resolution ?? 'arch',
      maxTokens: options.maxTokens ?? 64,
    }
    const wMax = numberHigh(space.decisions.width_multiplier, 1)
    this.maxChannels = chainChannels(this.options.baseChannels, wMax)
    this.downsample = options.downsample ?? Math.max(1, Math.ceil(layers.max / 3))
    const ctx = initContext((options.seed ?? 0) + 104729)
    this.stem = this.root.add('stem', new Stem(ctx, this.inputShape[2], this.maxChannels))
    let c = this.maxChannels
    for (let i = 0; i < layers.max; i++) {
      const stride = this.isReduction(i) ? 2 : 1
      const cOut = stride === 2 ? c * 2 : c
      const ops = new Map<string, Module>()
      for (const op of this.ops) {
        const m = createOp(op, { cIn: c, cOut, stride, maxTokens: this.options.maxTokens }, ctx)
        ops.set(op, this.root.add(`layer${i}/${op}`, m))
      }
      this.layers.push(ops)
      c = cOut
    }
    this.classifier = this.root.add('classifier', new Linear(ctx, c, this.numClasses))
  }

  isReduction(i: number): boolean {
    return i > 0 && i % this.downsample === 0
  }

  protected run(x: tf.Tensor4D, arch: Arch, training: boolean): tf.Tensor2D {
    const layers = arch.layers as Array<{ op: string }> | undefined
    const wm = arch.width_multiplier
    if (!Array.isArray(layers) || typeof wm !== 'number') {
      throw new NaskitError(
        'E_INVALID_ARCH',
        'Not a chain architecture: expected { layers: [...], width_multiplier, resolution }.',
      )
    }
    if (layers.length > this.layers.length) {
      throw new NaskitError(
        'E_INVALID_ARCH',
        `The architecture has ${layers.length} layers; the supernet holds ${this.layers.length}.`,
      )
    }
    const res =
      this.options.resolution === 'arch' ? Number(arch.resolution) : this.options.resolution
    const [, h, w] = x.shape
    let y = h === res && w === res ? x : tf.image.resizeBilinear(x, [res, res])
    let active = chainChannels(this.options.baseChannels, wm)
    y = this.masks.apply(this.stem.apply(y, training), active)
    layers.forEach((l, i) => {
      const op = this.layers[i]!.get(l.op)
      if (op === undefined)
        throw new NaskitError('E_INVALID_ARCH', `Op "${l.op}" is not in the supernet.`)
      if (this.isReduction(i)) active *= 2
      y = this.masks.apply(op.apply(y, training), active)
    })
    // a shallow architecture stops before the last reductions: pad its channels to the
    // classifier's width (the padding is zero, so only the slice of weights it uses matters)
    const pooled = globalAvgPool(tf.relu(y))
    const missing = this.classifier.inFeatures - pooled.shape[1]
    const feats =
      missing > 0
        ? (tf.pad(pooled, [
            [0, 0],
            [0, missing],
          ]) as tf.Tensor2D)
        : pooled
    return this.classifier.linear(feats)
  }

  slots(): SupernetSlot[] {
    return this.layers.map((_, i) => ({ id: `layers.${i}`, ops: this.ops }))
  }

  buildOptions(): BuildOptions {
    return {
      numClasses: this.numClasses,
      inputShape: this.inputShape,
      chain: {
        baseChannels: this.options.baseChannels,
        resolution: this.options.resolution,
        downsample: this.downsample,
        maxTokens: this.options.maxTokens,
      },
    }
  }

  protected override disposeExtra(): void {
    this.masks.dispose()
  }
}
