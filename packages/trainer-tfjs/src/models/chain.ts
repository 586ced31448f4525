import * as tf from '@tensorflow/tfjs'
import { NaskitError } from '../errors.js'
import { initContext, type Module } from '../ops/module.js'
import { createOp } from '../ops/ops.js'
import { Linear } from '../ops/primitives.js'
import { globalAvgPool, Network, Stem } from './network.js'

import { CHAIN_OPS } from '@naskit/core'

export { CHAIN_OPS }

export interface ChainArch {
  layers: Array<{ op: string }>
  width_multiplier: number
  resolution: number
}

export interface ChainOptions {
  /** Channels before the width multiplier (default 16). */
  baseChannels?: number
  numClasses?: number
  /** Shape of the images fed to the network (before resizing). */
  inputShape?: [number, number, number]
  /**
   * Resolution the input is resized to: `'arch'` (default) uses the architecture's
   * `resolution`; a number overrides it (useful for small images such as MNIST).
   */
  resolution?: 'arch' | number
  /**
   * Layers at which the resolution halves and the channels double: `'thirds'` (default, at
   * 1/3 and 2/3 of the depth), a number n (every n layers), or `'none'`.
   */
  downsample?: 'thirds' | 'none' | number
  seed?: number
  /** Attention: attend over at most this many positions (default 256). */
  maxTokens?: number
}

export function validateChain(arch: unknown): ChainArch {
  const a = arch as ChainArch
  if (!Array.isArray(a?.layers) || a.layers.length < 1) {
    throw new NaskitError('E_INVALID_ARCH', 'chain arch needs a non-empty layers array')
  }
  a.layers.forEach((l, i) => {
    if (!(CHAIN_OPS as readonly string[]).includes(l?.op)) {
      throw new NaskitError(
        'E_INVALID_ARCH',
        `chain layers[${i}].op "${l?.op}" is not one of ${CHAIN_OPS.join(', ')}`,
      )
    }
  })
  if (!(typeof a.width_multiplier === 'number' && a.width_multiplier > 0)) {
    throw new NaskitError('E_INVALID_ARCH', 'chain width_multiplier must be a positive number')
  }
  if (!(Number.isInteger(a.resolution) && a.resolution > 0)) {
    throw new NaskitError('E_INVALID_ARCH', 'chain resolution must be a positive integer')
  }
  return a
}

function reductionLayers(depth: number, mode: ChainOptions['downsample']): Set<number> {
  if (mode === 'none') return new Set()
  if (typeof mode === 'number') {
    const out = new Set<number>()
    for (let i = mode; i < depth; i += mode) out.add(i)
    return out
  }
  return new Set([Math.floor(depth / 3), Math.floor((2 * depth) / 3)].filter((i) => i > 0))
}

/**
 * Channels of a chain network's first stage for a width multiplier: base × multiplier rounded
 * to a multiple of 4, at least 4.
 */
export function chainChannels(base: number, widthMultiplier: number): number {
  return Math.max(4, Math.round((base * widthMultiplier) / 4) * 4)
}

/**
 * The chain network: input resized to the resolution, a 3×3 stem to
 * {@link chainChannels}(base, width multiplier) channels, the layers in sequence (a reduction layer runs
 * its op with stride 2 and doubles the channels), global average pooling, classifier.
 */
export class ChainNetwork extends Network {
  readonly stem: Stem
  readonly layers: Module[] = []
  readonly classifier: Linear
  readonly resolution: number

  constructor(arch: ChainArch, options: ChainOptions = {}) {
    super(options.inputShape ?? [28, 28, 1], options.numClasses ?? 10)
    validateChain(arch)
    const ctx = initContext(options.seed ?? 0)
    this.resolution =
      options.resolution === undefined || options.resolution === 'arch'
        ? arch.resolution
        : options.resolution
    const base = options.baseChannels ?? 16
    let c = chainChannels(base, arch.width_multiplier)
    this.stem = this.addModule('stem', new Stem(ctx, this.inputShape[2], c))
    const reduce = reductionLayers(arch.layers.length, options.downsample ?? 'thirds')
    arch.layers.forEach((l, i) => {
      const stride = reduce.has(i) ? 2 : 1
      const cOut = stride === 2 ? c * 2 : c
      const spec = { cIn: c, cOut, stride, maxTokens: options.maxTokens }
      this.layers.push(this.addModule(`layer${i}_${l.op}`, createOp(l.op, spec, ctx)))
      c = cOut
    })
    this.classifier = this.addModule('classifier', new Linear(ctx, c, this.numClasses))
  }

  forward(x: tf.Tensor4D, training: boolean): tf.Tensor2D {
    const [, h, w] = x.shape
    let y =
      h === this.resolution && w === this.resolution
        ? x
        : tf.image.resizeBilinear(x, [this.resolution, this.resolution])
    y = this.stem.apply(y, training)
    for (const l of this.layers) y = l.apply(y, training)
    return this.classifier.linear(globalAvgPool(tf.relu(y)))
  }
}
