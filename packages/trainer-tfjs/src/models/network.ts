import * as tf from '@tensorflow/tfjs'
import { countMacs, Module } from '../ops/module.js'
import { BatchNorm, Conv2d } from '../ops/primitives.js'

/** A classifier built from an architecture: NHWC images in, logits out. */
export abstract class Network extends Module<tf.Tensor2D> {
  constructor(
    readonly inputShape: [number, number, number],
    readonly numClasses: number,
  ) {
    super()
  }

  /** Multiply-accumulates of one forward pass on one image (NAS-Bench-201's FLOPs). */
  flops(): number {
    return countMacs(() => {
      tf.tidy(() => {
        this.apply(tf.zeros([1, ...this.inputShape]) as tf.Tensor4D, false)
      })
    })
  }

  predict(x: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => this.apply(x, false))
  }
}

/** 3×3 conv + BN stem (no activation), as NAS-Bench-201 and DARTS use. */
export class Stem extends Module {
  readonly conv: Conv2d
  readonly bn: BatchNorm
  constructor(
    ctx: import('../ops/module.js').InitContext,
    cIn: number,
    cOut: number,
    affine = true,
  ) {
    super()
    this.conv = this.addModule('conv', new Conv2d(ctx, cIn, cOut, 3))
    this.bn = this.addModule('bn', new BatchNorm(cOut, { affine }))
  }
  forward(x: tf.Tensor4D, training: boolean): tf.Tensor4D {
    return this.bn.apply(this.conv.apply(x), training)
  }
}

/** Global average pooling over H and W: [N, H, W, C] → [N, C]. */
export function globalAvgPool(x: tf.Tensor4D): tf.Tensor2D {
  return tf.mean(x, [1, 2]) as tf.Tensor2D
}
