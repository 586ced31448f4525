import * as tf from '@tensorflow/tfjs'
import { NaskitError } from '../errors.js'
import { initContext, Module } from '../ops/module.js'
import { createOp, FactorizedReduce, ReLUConvBN } from '../ops/ops.js'
import { Linear } from '../ops/primitives.js'
import { globalAvgPool, Network, Stem } from './network.js'

import { DARTS_OPS } from '@naskit/core'

export { DARTS_OPS }

export interface DartsCellGenotype {
  nodes: Array<{ inputs: number[]; ops: string[] }>
}
export interface DartsArch {
  normal: DartsCellGenotype
  reduce: DartsCellGenotype
}

export interface DartsOptions {
  /** Initial channels C (default 16). */
  channels?: number
  /** Number of cells (default 8); reduction cells sit at 1/3 and 2/3 of the depth. */
  layers?: number
  /** Stem output = stemMultiplier × C (default 3). */
  stemMultiplier?: number
  numClasses?: number
  inputShape?: [number, number, number]
  seed?: number
  affine?: boolean
}

/**
 * Builds the op of one cell edge. The DARTS network passes `createOp`; a DARTS search
 * supernet passes a factory that makes a mixed op over all candidates.
 */
export type DartsEdgeFactory = (edge: {
  node: number
  input: number
  op: string
  channels: number
  stride: number
  reduction: boolean
}) => Module

export function validateDartsCell(cell: unknown, name: string): DartsCellGenotype {
  const nodes = (cell as DartsCellGenotype | undefined)?.nodes
  if (!Array.isArray(nodes) || nodes.length !== 4) {
    throw new NaskitError('E_INVALID_ARCH', `darts ${name} cell needs 4 nodes`)
  }
  nodes.forEach((n, i) => {
    const k = i + 2
    if (
      !Array.isArray(n.inputs) ||
      !Array.isArray(n.ops) ||
      n.inputs.length !== n.ops.length ||
      n.inputs.length < 1
    ) {
      throw new NaskitError(
        'E_INVALID_ARCH',
        `darts ${name} node ${k}: inputs and ops must be equal-length arrays`,
      )
    }
    for (const j of n.inputs) {
      if (!Number.isInteger(j) || j < 0 || j >= k) {
        throw new NaskitError(
          'E_INVALID_ARCH',
          `darts ${name} node ${k}: input ${j} must be in 0..${k - 1}`,
        )
      }
    }
    for (const op of n.ops) {
      if (!(DARTS_OPS as readonly string[]).includes(op)) {
        throw new NaskitError('E_INVALID_ARCH', `darts ${name} node ${k}: unknown op "${op}"`)
      }
    }
  })
  return cell as DartsCellGenotype
}

export function validateDarts(arch: unknown): DartsArch {
  const a = arch as DartsArch
  validateDartsCell(a?.normal, 'normal')
  validateDartsCell(a?.reduce, 'reduce')
  return a
}

/**
 * A DARTS cell: inputs c_{k-2} (index 0) and c_{k-1} (index 1) are preprocessed to C
 * channels (a factorized reduce for c_{k-2} after a reduction cell, ReLU-conv1x1-BN
 * otherwise); each intermediate node (2..5) sums its edge ops; the output concatenates the
 * four intermediate nodes (4C channels). In a reduction cell, edges from the inputs have
 * stride 2.
 */
export class DartsCell extends Module {
  readonly pre0: Module
  readonly pre1: ReLUConvBN
  readonly edges: Array<Array<{ input: number; op: Module }>>

  constructor(
    genotype: DartsCellGenotype,
    cPrevPrev: number,
    cPrev: number,
    readonly channels: number,
    readonly reduction: boolean,
    reductionPrev: boolean,
    makeEdge: DartsEdgeFactory,
    ctx: ReturnType<typeof initContext>,
    affine = true,
  ) {
    super()
    this.pre0 = reductionPrev
      ? this.addModule('preprocess0', new FactorizedReduce(ctx, cPrevPrev, channels, 2, affine))
      : this.addModule('preprocess0', new ReLUConvBN(ctx, cPrevPrev, channels, 1, 1, 1, affine))
    this.pre1 = this.addModule('preprocess1', new ReLUConvBN(ctx, cPrev, channels, 1, 1, 1, affine))
    this.edges = genotype.nodes.map((n, i) =>
      n.inputs.map((input, e) => {
        const stride = reduction && input < 2 ? 2 : 1
        const opName = n.ops[e]!
        const op = makeEdge({ node: i + 2, input, op: opName, channels, stride, reduction })
        this.addModule(`node${i + 2}/edge${input}_${opName}`, op)
        return { input, op }
      }),
    )
  }

  /** Runs the cell on its two inputs. */
  cell(s0: tf.Tensor4D, s1: tf.Tensor4D, training: boolean): tf.Tensor4D {
    const states: tf.Tensor4D[] = [this.pre0.apply(s0, training), this.pre1.apply(s1, training)]
    for (const edges of this.edges) {
      let sum: tf.Tensor4D | null = null
      for (const e of edges) {
        const y = e.op.apply(states[e.input]!, training)
        sum = sum === null ? y : (tf.add(sum, y) as tf.Tensor4D)
      }
      states.push(sum!)
    }
    return tf.concat(states.slice(2), 3)
  }

  /** Single-input form (both inputs the same tensor). */
  forward(x: tf.Tensor4D, training: boolean): tf.Tensor4D {
    return this.cell(x, x, training)
  }
}

/** The DARTS evaluation network: stem, `layers` cells (reductions at 1/3 and 2/3), classifier. */
export class DartsNetwork extends Network {
  readonly stem: Stem
  readonly cells: DartsCell[] = []
  readonly classifier: Linear

  constructor(arch: DartsArch, options: DartsOptions = {}, makeEdge?: DartsEdgeFactory) {
    super(options.inputShape ?? [32, 32, 3], options.numClasses ?? 10)
    validateDarts(arch)
    const ctx = initContext(options.seed ?? 0)
    const c = options.channels ?? 16
    const layers = options.layers ?? 8
    const affine = options.affine ?? true
    const edge: DartsEdgeFactory =
      makeEdge ??
      ((e) => createOp(e.op, { cIn: e.channels, cOut: e.channels, stride: e.stride, affine }, ctx))
    const cStem = (options.stemMultiplier ?? 3) * c
    this.stem = this.addModule('stem', new Stem(ctx, this.inputShape[2], cStem, affine))
    let cPP = cStem
    let cP = cStem
    let cCur = c
    let reductionPrev = false
    const reduceAt = new Set([Math.floor(layers / 3), Math.floor((2 * layers) / 3)])
    for (let i = 0; i < layers; i++) {
      const reduction = reduceAt.has(i)
      if (reduction) cCur *= 2
      const genotype = reduction ? arch.reduce : arch.normal
      const cell = new DartsCell(
        genotype,
        cPP,
        cP,
        cCur,
        reduction,
        reductionPrev,
        edge,
        ctx,
        affine,
      )
      this.cells.push(this.addModule(`cell${i}`, cell))
      reductionPrev = reduction
      cPP = cP
      cP = 4 * cCur
    }
    this.classifier = this.addModule('classifier', new Linear(ctx, cP, this.numClasses))
  }

  forward(x: tf.Tensor4D, training: boolean): tf.Tensor2D {
    let s0 = this.stem.apply(x, training)
    let s1 = s0
    for (const cell of this.cells) {
      const s2 = cell.cell(s0, s1, training)
      s0 = s1
      s1 = s2
    }
    return this.classifier.linear(globalAvgPool(s1))
  }
}
