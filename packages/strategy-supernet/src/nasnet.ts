import { type Arch, NaskitError, type SearchSpace } from '@naskit/core'
import * as tf from '@tensorflow/tfjs'
import { ChannelMasks, Supernet, type SupernetSlot } from './supernet'
import {
  type BuildOptions,
  createOp,
  FactorizedReduce,
  globalAvgPool,
  initContext,
  Linear,
  type Module,
  Stem,
} from './trainer'

/** Options of the NASNet-space supernet. */
export interface NasnetSupernetOptions {
  numClasses?: number
  /** @default [28, 28, 1] */
  inputShape?: [number, number, number]
  /** Scales every block's channels, to train small proxies quickly. @default 1 */
  channelScale?: number
  /** A reduction (stride 2) every this many blocks. @default ceil(max repeats / 3) */
  downsample?: number
  seed?: number
}

interface Block {
  convs: Map<number, Module>
  /** Residual path when the channels or the resolution change. */
  shortcut: FactorizedReduce
  stride: number
}

/**
 * The NASNet-space supernet: a stem, `max repeats` blocks each holding a ReLU-conv-BN per
 * kernel size at the widest channel count, a shortcut for blocks whose shape changes, and a
 * classifier. A block with fewer channels uses the first channels of the widest block's
 * weights; fewer repeats run the first blocks.
 */
export class NasnetSupernet extends Supernet {
  readonly kind = 'nasnet' as const
  readonly stem: Stem
  readonly blocks: Block[] = []
  readonly classifier: Linear
  readonly kernels: readonly number[]
  readonly maxChannels: number
  readonly channelScale: number
  readonly downsample: number
  private readonly masks = new ChannelMasks()

  constructor(space: SearchSpace, options: NasnetSupernetOptions = {}) {
    super(space, options.inputShape ?? [28, 28, 1], options.numClasses ?? 10)
    const spec = space.decisions.blocks
    if (spec?.type !== 'repeat') {
      throw new NaskitError(
        'E_UNSUPPORTED_SPACE',
        'The NASNet supernet needs a repeated "blocks" decision in the space.',
      )
    }
    const kernel = spec.body.kernel
    const channels = spec.body.channels
    if (kernel?.type !== 'categorical' || !channels || channels.type !== 'int') {
      throw new NaskitError(
        'E_UNSUPPORTED_SPACE',
        'The NASNet supernet needs blocks.*.kernel (categorical) and blocks.*.channels (int).',
      )
    }
    this.kernels = kernel.choices.map(Number)
    for (const k of this.kernels) {
      if (![3, 5, 7].includes(k))
        throw new NaskitError('E_UNSUPPORTED_SPACE', `Kernel size ${k} is not supported.`)
    }
    this.channelScale = options.channelScale ?? 1
    this.maxChannels = this.scaled(channels.high)
    this.downsample = options.downsample ?? Math.max(1, Math.ceil(spec.max / 3))
    const ctx = initContext((options.seed ?? 0) + 1299709)
    const c = this.maxChannels
    this.stem = this.root.add('stem', new Stem(ctx, this.inputShape[2], c))
    for (let i = 0; i < spec.max; i++) {
      const stride = i > 0 && i % this.downsample === 0 ? 2 : 1
      const convs = new Map<number, Module>()
      for (const k of this.kernels) {
        const op = createOp(`conv_${k}x${k}`, { cIn: c, cOut: c, stride }, ctx)
        convs.set(k, this.root.add(`block${i}/conv_${k}x${k}`, op))
      }
      const shortcut = this.root.add(`block${i}/shortcut`, new FactorizedReduce(ctx, c, c, stride))
      this.blocks.push({ convs, shortcut, stride })
    }
    this.classifier = this.root.add('classifier', new Linear(ctx, c, this.numClasses))
  }

  /** Channels of a block after the channel scale (as the trainer's NASNet builder). */
  scaled(channels: number): number {
    return Math.max(1, Math.round(channels * this.channelScale))
  }

  protected run(x: tf.Tensor4D, arch: Arch, training: boolean): tf.Tensor2D {
    const blocks = arch.blocks as
      | Array<{ kernel: number; channels: number; skip: boolean }>
      | undefined
    if (!Array.isArray(blocks) || blocks.length === 0) {
      throw new NaskitError('E_INVALID_ARCH', 'Not a NASNet architecture: expected { blocks }.')
    }
    if (blocks.length > this.blocks.length) {
      throw new NaskitError(
        'E_INVALID_ARCH',
        `The architecture has ${blocks.length} blocks; the supernet holds ${this.blocks.length}.`,
      )
    }
    let active = this.scaled(blocks[0]!.channels)
    let y = this.masks.apply(this.stem.apply(x, training), active)
    blocks.forEach((b, i) => {
      const block = this.blocks[i]!
      const conv = block.convs.get(b.kernel)
      if (conv === undefined)
        throw new NaskitError('E_INVALID_ARCH', `Kernel ${b.kernel} is not in the supernet.`)
      const out = this.scaled(b.channels)
      let z = this.masks.apply(conv.apply(y, training), out)
      if (b.skip) {
        const same = block.stride === 1 && out === active
        const s = same ? y : this.masks.apply(block.shortcut.apply(y, training), out)
        z = tf.add(z, s)
      }
      y = z
      active = out
    })
    return this.classifier.linear(globalAvgPool(tf.relu(y)))
  }

  slots(): SupernetSlot[] {
    return this.blocks.map((_, i) => ({
      id: `blocks.${i}`,
      ops: this.kernels.map((k) => `conv_${k}x${k}`),
    }))
  }

  buildOptions(): BuildOptions {
    return {
      numClasses: this.numClasses,
      inputShape: this.inputShape,
      nasnet: { channelScale: this.channelScale, downsample: this.downsample },
    }
  }

  protected override disposeExtra(): void {
    this.masks.dispose()
  }
}
