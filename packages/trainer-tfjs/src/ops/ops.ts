import * as tf from '@tensorflow/tfjs'
import { NaskitError } from '../errors.js'
import { addMacs, type InitContext, Module, uniform } from './module.js'
import {
  avgPoolExcludePad,
  avgPoolSameExcludePad,
  BatchNorm,
  Conv2d,
  DepthwiseConv2d,
  maxPoolSymmetric,
} from './primitives.js'

/** Shape-changing arguments shared by every op. */
export interface OpSpec {
  cIn: number
  cOut: number
  /** 1 keeps the resolution, 2 halves it. */
  stride: number
  /** Learned scale/shift in batch norms (default true; DARTS search uses false). */
  affine?: boolean
  /** Attention only: number of heads (default: the largest of 4, 2, 1 dividing the channels). */
  heads?: number
  /** Attention only: attend over at most this many positions (average-pooled grid). */
  maxTokens?: number
}

/** ReLU → k×k conv → BN: `conv_kxk`, and NAS-Bench-201's `nor_conv_1x1` / `nor_conv_3x3`. */
export class ReLUConvBN extends Module {
  readonly conv: Conv2d
  readonly bn: BatchNorm

  constructor(
    ctx: InitContext,
    cIn: number,
    cOut: number,
    k: number,
    stride = 1,
    dilation = 1,
    affine = true,
  ) {
    super()
    this.conv = this.addModule('conv', new Conv2d(ctx, cIn, cOut, k, stride, dilation))
    this.bn = this.addModule('bn', new BatchNorm(cOut, { affine }))
  }

  forward(x: tf.Tensor4D, training: boolean): tf.Tensor4D {
    return this.bn.apply(this.conv.apply(tf.relu(x)), training)
  }
}

/** DARTS `dil_conv_kxk`: ReLU → dilated depthwise k×k → pointwise 1×1 → BN. */
export class DilConv extends Module {
  readonly dw: DepthwiseConv2d
  readonly pw: Conv2d
  readonly bn: BatchNorm

  constructor(
    ctx: InitContext,
    cIn: number,
    cOut: number,
    k: number,
    stride: number,
    dilation: number,
    affine = true,
  ) {
    super()
    this.dw = this.addModule('depthwise', new DepthwiseConv2d(ctx, cIn, k, stride, dilation))
    this.pw = this.addModule('pointwise', new Conv2d(ctx, cIn, cOut, 1))
    this.bn = this.addModule('bn', new BatchNorm(cOut, { affine }))
  }

  forward(x: tf.Tensor4D, training: boolean): tf.Tensor4D {
    return this.bn.apply(this.pw.apply(this.dw.apply(tf.relu(x))), training)
  }
}

/** DARTS `sep_conv_kxk`: two stacked ReLU → depthwise → pointwise → BN (stride on the first). */
export class SepConv extends Module {
  readonly first: DilConv
  readonly second: DilConv

  constructor(
    ctx: InitContext,
    cIn: number,
    cOut: number,
    k: number,
    stride: number,
    affine = true,
  ) {
    super()
    this.first = this.addModule('sep1', new DilConv(ctx, cIn, cIn, k, stride, 1, affine))
    this.second = this.addModule('sep2', new DilConv(ctx, cIn, cOut, k, 1, 1, affine))
  }

  forward(x: tf.Tensor4D, training: boolean): tf.Tensor4D {
    return this.second.apply(this.first.apply(x, training), training)
  }
}

/**
 * Factorized reduce: ReLU, then two 1×1 stride-2 convs on the input and on the input shifted
 * by one pixel, concatenated, then BN. With stride 1 it is ReLU → 1×1 conv → BN.
 */
export class FactorizedReduce extends Module {
  readonly convs: Conv2d[]
  readonly bn: BatchNorm
  readonly stride: number

  constructor(ctx: InitContext, cIn: number, cOut: number, stride = 2, affine = true) {
    super()
    this.stride = stride
    if (stride === 2) {
      const half = Math.floor(cOut / 2)
      this.convs = [
        this.addModule('conv_1', new Conv2d(ctx, cIn, half, 1, 2)),
        this.addModule('conv_2', new Conv2d(ctx, cIn, cOut - half, 1, 2)),
      ]
    } else if (stride === 1) {
      this.convs = [this.addModule('conv', new Conv2d(ctx, cIn, cOut, 1, 1))]
    } else {
      throw new NaskitError(
        'E_BAD_OPTIONS',
        `FactorizedReduce supports stride 1 or 2, got ${stride}`,
      )
    }
    this.bn = this.addModule('bn', new BatchNorm(cOut, { affine }))
  }

  forward(x: tf.Tensor4D, training: boolean): tf.Tensor4D {
    const r = tf.relu(x)
    if (this.stride === 1) return this.bn.apply(this.convs[0]!.apply(r), training)
    const [n, h, w, c] = r.shape
    const shifted = tf.pad(tf.slice(r, [0, 1, 1, 0], [n, h - 1, w - 1, c]), [
      [0, 0],
      [0, 1],
      [0, 1],
      [0, 0],
    ]) as tf.Tensor4D
    const y = tf.concat([this.convs[0]!.apply(r), this.convs[1]!.apply(shifted)], 3)
    return this.bn.apply(y, training)
  }
}

/** `skip_connect`: identity, or a factorized reduce when the stride or channels change. */
export class Skip extends Module {
  readonly reduce: FactorizedReduce | null

  constructor(ctx: InitContext, spec: OpSpec) {
    super()
    this.reduce =
      spec.stride === 1 && spec.cIn === spec.cOut
        ? null
        : this.addModule(
            'reduce',
            new FactorizedReduce(ctx, spec.cIn, spec.cOut, spec.stride, spec.affine ?? true),
          )
  }

  forward(x: tf.Tensor4D, training: boolean): tf.Tensor4D {
    return this.reduce === null ? x : this.reduce.apply(x, training)
  }
}

/** `none`: the zero op (strided and resized to the output channels when reducing). */
export class Zero extends Module {
  constructor(readonly spec: OpSpec) {
    super()
  }

  forward(x: tf.Tensor4D): tf.Tensor4D {
    const [n, h, w] = x.shape
    const s = this.spec.stride
    const oh = Math.ceil(h / s)
    const ow = Math.ceil(w / s)
    if (s === 1 && this.spec.cIn === this.spec.cOut) return tf.zerosLike(x)
    return tf.zeros([n, oh, ow, this.spec.cOut])
  }
}

/**
 * 3×3 max or average pooling (padding 1, padded cells not counted by the average). When the
 * channels change, a ReLU → 1×1 conv → BN comes first, as in NAS-Bench-201.
 */
export class Pool extends Module {
  readonly pre: ReLUConvBN | null

  constructor(
    ctx: InitContext,
    readonly kind: 'max' | 'avg',
    readonly spec: OpSpec,
    readonly k = 3,
  ) {
    super()
    this.pre =
      spec.cIn === spec.cOut
        ? null
        : this.addModule(
            'pre',
            new ReLUConvBN(ctx, spec.cIn, spec.cOut, 1, 1, 1, spec.affine ?? true),
          )
  }

  forward(x: tf.Tensor4D, training: boolean): tf.Tensor4D {
    const y = this.pre === null ? x : this.pre.apply(x, training)
    const s = this.spec.stride
    return this.kind === 'max'
      ? maxPoolSymmetric(y, this.k, s)
      : avgPoolExcludePad(y, this.k, s, (this.k - 1) / 2)
  }
}

/** A 1×1 projection over channels (no bias), as a matrix product on [N·L, C]. */
class Projection extends Module {
  readonly weight: tf.Variable
  constructor(
    ctx: InitContext,
    readonly cIn: number,
    readonly cOut: number,
  ) {
    super()
    this.weight = this.addVariable('kernel', uniform(ctx, [cIn, cOut], Math.sqrt(6 / (cIn + cOut))))
  }

  forward(x: tf.Tensor4D): tf.Tensor4D {
    return x
  }

  project(x: tf.Tensor2D): tf.Tensor2D {
    addMacs(x.shape[0] * this.cIn * this.cOut)
    return tf.matMul(x, this.weight as unknown as tf.Tensor2D)
  }
}

function defaultHeads(c: number): number {
  for (const h of [4, 2, 1]) if (c % h === 0) return h
  return 1
}

/**
 * `attention`: multi-head self-attention over spatial positions with learned query, key,
 * value and output projections and a residual path: y = x + W_o · MHSA(x). Inputs whose
 * grid has more than `maxTokens` positions (default 256) attend over an average-pooled grid
 * and the attention output is resized back before the residual sum. A stride or channel
 * change goes through a factorized reduce first.
 */
export class Attention extends Module {
  readonly pre: FactorizedReduce | null
  readonly q: Projection
  readonly k: Projection
  readonly v: Projection
  readonly o: Projection
  readonly heads: number
  readonly maxTokens: number

  constructor(
    ctx: InitContext,
    readonly spec: OpSpec,
  ) {
    super()
    const c = spec.cOut
    this.heads = spec.heads ?? defaultHeads(c)
    if (c % this.heads !== 0) {
      throw new NaskitError(
        'E_BAD_OPTIONS',
        `attention: ${this.heads} heads do not divide ${c} channels`,
      )
    }
    this.maxTokens = spec.maxTokens ?? 256
    this.pre =
      spec.stride === 1 && spec.cIn === spec.cOut
        ? null
        : this.addModule(
            'reduce',
            new FactorizedReduce(ctx, spec.cIn, c, spec.stride, spec.affine ?? true),
          )
    this.q = this.addModule('query', new Projection(ctx, c, c))
    this.k = this.addModule('key', new Projection(ctx, c, c))
    this.v = this.addModule('value', new Projection(ctx, c, c))
    this.o = this.addModule('output', new Projection(ctx, c, c))
  }

  forward(x: tf.Tensor4D, training: boolean): tf.Tensor4D {
    const inp = this.pre === null ? x : this.pre.apply(x, training)
    const [n, h, w, c] = inp.shape
    let pool = 1
    while (Math.ceil(h / pool) * Math.ceil(w / pool) > this.maxTokens) pool++
    const src = pool === 1 ? inp : avgPoolSameExcludePad(inp, pool)
    const [, gh, gw] = src.shape
    const l = gh * gw
    const heads = this.heads
    const dh = c / heads
    const flat = tf.reshape(src, [n * l, c]) as tf.Tensor2D
    const split = (t: tf.Tensor2D) =>
      tf.transpose(tf.reshape(t, [n, l, heads, dh]), [0, 2, 1, 3]) as tf.Tensor4D
    const q = split(this.q.project(flat))
    const k = split(this.k.project(flat))
    const v = split(this.v.project(flat))
    const scores = tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(dh))
    addMacs(2 * n * heads * l * l * dh)
    const attn = tf.matMul(tf.softmax(scores), v)
    const merged = tf.reshape(tf.transpose(attn, [0, 2, 1, 3]), [n * l, c]) as tf.Tensor2D
    let out = tf.reshape(this.o.project(merged), [n, gh, gw, c]) as tf.Tensor4D
    if (pool !== 1) out = tf.image.resizeBilinear(out, [h, w])
    return tf.add(inp, out)
  }
}

/** Every op name the built-in spaces use. */
export const OP_NAMES = [
  'none',
  'skip_connect',
  'max_pool_3x3',
  'avg_pool_3x3',
  'conv_1x1',
  'conv_3x3',
  'conv_5x5',
  'conv_7x7',
  'nor_conv_1x1',
  'nor_conv_3x3',
  'sep_conv_3x3',
  'sep_conv_5x5',
  'dil_conv_3x3',
  'dil_conv_5x5',
  'attention',
] as const

export type OpName = (typeof OP_NAMES)[number]

/** Creates one instance of an op, holding its own variables. */
export function createOp(name: string, spec: OpSpec, ctx: InitContext): Module {
  const affine = spec.affine ?? true
  const { cIn, cOut, stride } = spec
  switch (name) {
    case 'none':
      return new Zero(spec)
    case 'skip_connect':
      return new Skip(ctx, spec)
    case 'max_pool_3x3':
      return new Pool(ctx, 'max', spec)
    case 'avg_pool_3x3':
      return new Pool(ctx, 'avg', spec)
    case 'conv_1x1':
    case 'nor_conv_1x1':
      return new ReLUConvBN(ctx, cIn, cOut, 1, stride, 1, affine)
    case 'conv_3x3':
    case 'nor_conv_3x3':
      return new ReLUConvBN(ctx, cIn, cOut, 3, stride, 1, affine)
    case 'conv_5x5':
      return new ReLUConvBN(ctx, cIn, cOut, 5, stride, 1, affine)
    case 'conv_7x7':
      return new ReLUConvBN(ctx, cIn, cOut, 7, stride, 1, affine)
    case 'sep_conv_3x3':
      return new SepConv(ctx, cIn, cOut, 3, stride, affine)
    case 'sep_conv_5x5':
      return new SepConv(ctx, cIn, cOut, 5, stride, affine)
    case 'dil_conv_3x3':
      return new DilConv(ctx, cIn, cOut, 3, stride, 2, affine)
    case 'dil_conv_5x5':
      return new DilConv(ctx, cIn, cOut, 5, stride, 2, affine)
    case 'attention':
      return new Attention(ctx, spec)
    default:
      throw new NaskitError(
        'E_UNKNOWN_OP',
        `Unknown op "${name}". Known ops: ${OP_NAMES.join(', ')}.`,
      )
  }
}
