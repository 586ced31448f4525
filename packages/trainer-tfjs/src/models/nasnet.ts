import * as tf from '@tensorflow/tfjs'
import { NaskitError } from '../errors.js'
import { initContext, Module } from '../ops/module.js'
import { FactorizedReduce, ReLUConvBN } from '../ops/ops.js'
import { Linear } from '../ops/primitives.js'
import { globalAvgPool, Network, Stem } from './network.js'

export interface NasnetArch {
  blocks: Array<{ kernel: number; channels: number; skip: boolean }>
}

export interface NasnetOptions {
  numClasses?: number
  inputShape?: [number, number, number]
  /** Blocks that halve the resolution: `'thirds'` (default), every n blocks, or `'none'`. */
  downsample?: 'thirds' | 'none' | number
  /** Scales every block's channels (default 1), to train small proxies quickly. */
  channelScale?: number
  seed?: number
}

export function validateNasnet(arch: unknown): NasnetArch {
  const a = arch as NasnetArch
  if (!Array.isArray(a?.blocks) || a.blocks.length < 1) {
    throw new NaskitError('E_INVALID_ARCH', 'nasnet arch needs a non-empty blocks array')
  }
  a.blocks.forEach((b, i) => {
    if (![3, 5, 7].includes(b?.kernel)) {
      throw new NaskitError('E_INVALID_ARCH', `nasnet blocks[${i}].kernel must be 3, 5 or 7`)
    }
    if (!(Number.isInteger(b.channels) && b.channels > 0)) {
      throw new NaskitError(
        'E_INVALID_ARCH',
        `nasnet blocks[${i}].channels must be a positive integer`,
      )
    }
    if (typeof b.skip !== 'boolean') {
      throw new NaskitError('E_INVALID_ARCH', `nasnet blocks[${i}].skip must be a boolean`)
    }
  })
  return a
}

/** One block: ReLU → k×k conv → BN, plus a residual path when `skip` is set. */
export class NasnetBlock extends Module {
  readonly body: ReLUConvBN
  readonly shortcut: Module | null

  constructor(
    ctx: ReturnType<typeof initContext>,
    cIn: number,
    cOut: number,
    k: number,
    stride: number,
    readonly skip: boolean,
  ) {
    super()
    this.body = this.addModule('conv', new ReLUConvBN(ctx, cIn, cOut, k, stride))
    this.shortcut =
      skip && (stride !== 1 || cIn !== cOut)
        ? this.addModule('shortcut', new FactorizedReduce(ctx, cIn, cOut, stride))
        : null
  }

  forward(x: tf.Tensor4D, training: boolean): tf.Tensor4D {
    const y = this.body.apply(x, training)
    if (!this.skip) return y
    const s = this.shortcut === null ? x : this.shortcut.apply(x, training)
    return tf.add(y, s)
  }
}

/** The NASNet-style chain: stem, blocks (kernel, channels, skip), global pooling, classifier. */
export class NasnetNetwork extends Network {
  readonly stem: Stem
  readonly blocks: NasnetBlock[] = []
  readonly classifier: Linear

  constructor(arch: NasnetArch, options: NasnetOptions = {}) {
    super(options.inputShape ?? [28, 28, 1], options.numClasses ?? 10)
    validateNasnet(arch)
    const ctx = initContext(options.seed ?? 0)
    const scale = options.channelScale ?? 1
    const ch = (c: number) => Math.max(1, Math.round(c * scale))
    const first = ch(arch.blocks[0]!.channels)
    this.stem = this.addModule('stem', new Stem(ctx, this.inputShape[2], first))
    const n = arch.blocks.length
    const mode = options.downsample ?? 'thirds'
    const reduce = new Set<number>()
    if (typeof mode === 'number') for (let i = mode; i < n; i += mode) reduce.add(i)
    else if (mode === 'thirds')
      for (const i of [Math.floor(n / 3), Math.floor((2 * n) / 3)]) if (i > 0) reduce.add(i)
    let c = first
    arch.blocks.forEach((b, i) => {
      const cOut = ch(b.channels)
      const block = new NasnetBlock(ctx, c, cOut, b.kernel, reduce.has(i) ? 2 : 1, b.skip)
      this.blocks.push(this.addModule(`block${i}`, block))
      c = cOut
    })
    this.classifier = this.addModule('classifier', new Linear(ctx, c, this.numClasses))
  }

  forward(x: tf.Tensor4D, training: boolean): tf.Tensor2D {
    let y = this.stem.apply(x, training)
    for (const b of this.blocks) y = b.apply(y, training)
    return this.classifier.linear(globalAvgPool(tf.relu(y)))
  }
}
