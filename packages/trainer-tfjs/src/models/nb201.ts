import * as tf from '@tensorflow/tfjs'
import { NaskitError } from '../errors.js'
import { type InitContext, initContext, Module } from '../ops/module.js'
import { createOp, ReLUConvBN } from '../ops/ops.js'
import { BatchNorm, Conv2d, Linear } from '../ops/primitives.js'
import { globalAvgPool, Network, Stem } from './network.js'

import { NB201_OPS } from '@naskit/core'

export { NB201_OPS }
export type { Nb201Op } from '@naskit/core'

export interface Nb201Arch {
  cell: { nodes: Array<{ inputs: number[]; ops: string[] }> }
}

export interface Nb201Options {
  /** Channels of the first stage (default 16). */
  channels?: number
  /** Cells per stage (default 5). */
  cellsPerStage?: number
  numClasses?: number
  inputShape?: [number, number, number]
  seed?: number
  /** Learned scale/shift in the batch norms (default true, as NAS-Bench-201). */
  affine?: boolean
}

/** Builds an edge op of a cell: used by the NAS-Bench-201 network and by weight-sharing supernets. */
export type EdgeFactory = (edge: {
  node: number
  input: number
  op: string
  channels: number
}) => Module

/** Checks the value format of an NB201 architecture; throws `E_INVALID_ARCH`. */
export function validateNb201(arch: unknown): Nb201Arch {
  const nodes = (arch as Nb201Arch | undefined)?.cell?.nodes
  if (!Array.isArray(nodes) || nodes.length !== 3) {
    throw new NaskitError('E_INVALID_ARCH', 'nb201 arch needs cell.nodes with 3 nodes')
  }
  nodes.forEach((n, i) => {
    if (!Array.isArray(n.inputs) || !Array.isArray(n.ops) || n.inputs.length !== n.ops.length) {
      throw new NaskitError(
        'E_INVALID_ARCH',
        `nb201 node ${i + 1}: inputs and ops must be arrays of equal length`,
      )
    }
    for (const j of n.inputs) {
      if (!Number.isInteger(j) || j < 0 || j > i) {
        throw new NaskitError(
          'E_INVALID_ARCH',
          `nb201 node ${i + 1}: input ${j} must be an earlier node (0..${i})`,
        )
      }
    }
    for (const op of n.ops) {
      if (!(NB201_OPS as readonly string[]).includes(op)) {
        throw new NaskitError(
          'E_INVALID_ARCH',
          `nb201 node ${i + 1}: unknown op "${op}" (use ${NB201_OPS.join(', ')})`,
        )
      }
    }
  })
  return arch as Nb201Arch
}

/** A NAS-Bench-201 cell: node k sums op(node j) over its inputs; the last node is the output. */
export class Nb201Cell extends Module {
  readonly edges: Array<Array<{ input: number; op: Module; isNone: boolean }>>

  constructor(arch: Nb201Arch, channels: number, makeEdge: EdgeFactory) {
    super()
    this.edges = arch.cell.nodes.map((n, k) =>
      n.inputs.map((input, e) => {
        const op = makeEdge({ node: k + 1, input, op: n.ops[e]!, channels })
        this.addModule(`node${k + 1}/edge${input}_${n.ops[e]}`, op)
        return { input, op, isNone: n.ops[e] === 'none' }
      }),
    )
  }

  forward(x: tf.Tensor4D, training: boolean): tf.Tensor4D {
    const nodes: tf.Tensor4D[] = [x]
    for (const edges of this.edges) {
      let sum: tf.Tensor4D | null = null
      for (const e of edges) {
        if (e.isNone) continue // zero contributes nothing
        const y = e.op.apply(nodes[e.input]!, training)
        sum = sum === null ? y : (tf.add(sum, y) as tf.Tensor4D)
      }
      nodes.push(sum ?? tf.zerosLike(x))
    }
    return nodes[nodes.length - 1]!
  }
}

/** ResNet basic block with stride 2 and an avg-pool + 1×1 conv shortcut (NAS-Bench-201's reduction). */
export class ResidualReduction extends Module {
  readonly a: ReLUConvBN
  readonly b: ReLUConvBN
  readonly shortcut: Conv2d

  constructor(ctx: InitContext, cIn: number, cOut: number, affine = true) {
    super()
    this.a = this.addModule('conv_a', new ReLUConvBN(ctx, cIn, cOut, 3, 2, 1, affine))
    this.b = this.addModule('conv_b', new ReLUConvBN(ctx, cOut, cOut, 3, 1, 1, affine))
    this.shortcut = this.addModule('downsample', new Conv2d(ctx, cIn, cOut, 1))
  }

  forward(x: tf.Tensor4D, training: boolean): tf.Tensor4D {
    const main = this.b.apply(this.a.apply(x, training), training)
    const short = this.shortcut.apply(tf.avgPool(x, 2, 2, 'valid'))
    return tf.add(main, short)
  }
}

/**
 * The NAS-Bench-201 network: 3×3 stem conv + BN, three stages of N cells with C, 2C, 4C
 * channels separated by residual reductions, BN + ReLU, global average pooling, linear
 * classifier. At C=16, N=5, 10 classes its parameter count equals NAS-Bench-201's.
 */
export class Nb201Network extends Network {
  readonly stem: Stem
  readonly body: Module[] = []
  readonly lastBn: BatchNorm
  readonly classifier: Linear

  constructor(arch: Nb201Arch, options: Nb201Options = {}, makeEdge?: EdgeFactory) {
    super(options.inputShape ?? [32, 32, 3], options.numClasses ?? 10)
    validateNb201(arch)
    const ctx = initContext(options.seed ?? 0)
    const c = options.channels ?? 16
    const n = options.cellsPerStage ?? 5
    const affine = options.affine ?? true
    const edge: EdgeFactory =
      makeEdge ??
      ((e) => createOp(e.op, { cIn: e.channels, cOut: e.channels, stride: 1, affine }, ctx))
    this.stem = this.addModule('stem', new Stem(ctx, this.inputShape[2], c, affine))
    let ch = c
    for (let stage = 0; stage < 3; stage++) {
      if (stage > 0) {
        this.body.push(
          this.addModule(`reduce${stage}`, new ResidualReduction(ctx, ch, ch * 2, affine)),
        )
        ch *= 2
      }
      for (let i = 0; i < n; i++) {
        this.body.push(this.addModule(`stage${stage}/cell${i}`, new Nb201Cell(arch, ch, edge)))
      }
    }
    this.lastBn = this.addModule('lastact/bn', new BatchNorm(ch, { affine }))
    this.classifier = this.addModule('classifier', new Linear(ctx, ch, this.numClasses))
  }

  forward(x: tf.Tensor4D, training: boolean): tf.Tensor2D {
    let h = this.stem.apply(x, training)
    for (const m of this.body) h = m.apply(h, training)
    h = tf.relu(this.lastBn.apply(h, training))
    return this.classifier.linear(globalAvgPool(h))
  }
}
