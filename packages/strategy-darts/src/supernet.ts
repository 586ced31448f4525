import { builtInKind, NaskitError, type SearchSpace } from '@naskit/core'
import * as tf from '@tensorflow/tfjs'
import {
  createOp,
  DartsNetwork,
  type InitContext,
  initContext,
  Module,
  Nb201Network,
  type Network,
} from './trainer.js'

/** The cell kinds that own architecture parameters: `normal` (alpha) and `reduce` (beta). */
export type CellKind = 'normal' | 'reduce'

/** One edge of a searched cell: the node it feeds and the node it reads. */
export interface EdgeRef {
  node: number
  input: number
}

/**
 * How a mixed op combines its candidates in one forward pass.
 * - `soft`: the softmax-weighted sum of every candidate (DARTS).
 * - `hard`: one sampled candidate per edge with a straight-through weight (GDAS).
 */
export type EdgeWeights =
  | { mode: 'soft'; weights: tf.Scalar[] }
  | { mode: 'hard'; index: number; weights: tf.Scalar[] }

/** What the mixed ops read their weights from during one forward pass. */
export interface MixingContext {
  current: Record<CellKind, EdgeWeights[] | null>
}

/**
 * A DARTS mixed op: every candidate op of the trainer's op library on one edge, combined by
 * the weights the supernet set for this edge (`softmax(alpha)` or a sampled one-hot).
 * The `none` candidate outputs zeros, so it is skipped: it adds nothing to the sum and its
 * weight gets no gradient from it, exactly as the zero op does.
 */
export class MixedOp extends Module {
  readonly candidates: Array<{ name: string; op: Module | null }>

  constructor(
    readonly ops: readonly string[],
    readonly kind: CellKind,
    readonly edge: number,
    readonly spec: { channels: number; stride: number },
    private readonly mixing: MixingContext,
    ctx: InitContext,
  ) {
    super()
    this.candidates = ops.map((name) => {
      if (name === 'none') return { name, op: null }
      const op = createOp(
        name,
        { cIn: spec.channels, cOut: spec.channels, stride: spec.stride, affine: false },
        ctx,
      )
      this.addModule(name, op)
      return { name, op }
    })
  }

  private zeros(x: tf.Tensor4D): tf.Tensor4D {
    const [n, h, w] = x.shape
    const s = this.spec.stride
    return tf.zeros([n, Math.ceil(h / s), Math.ceil(w / s), this.spec.channels])
  }

  forward(x: tf.Tensor4D, training: boolean): tf.Tensor4D {
    const all = this.mixing.current[this.kind]
    const w = all?.[this.edge]
    if (w === undefined) {
      throw new NaskitError(
        'E_SUPERNET',
        'A mixed op ran without architecture weights: call the supernet through DartsSupernet.forward().',
      )
    }
    if (w.mode === 'hard') {
      const chosen = this.candidates[w.index]!
      let out: tf.Tensor4D =
        chosen.op === null
          ? this.zeros(x)
          : (tf.mul(chosen.op.apply(x, training), w.weights[w.index]!) as tf.Tensor4D)
      // The other weights are zero in value; adding them keeps their straight-through
      // gradient path (GDAS).
      for (let k = 0; k < w.weights.length; k++) {
        if (k !== w.index) out = tf.add(out, w.weights[k]!) as tf.Tensor4D
      }
      return out
    }
    const outs: tf.Tensor4D[] = []
    const ws: tf.Scalar[] = []
    this.candidates.forEach((c, k) => {
      if (c.op !== null) {
        outs.push(c.op.apply(x, training))
        ws.push(w.weights[k]!)
      }
    })
    return outs.length === 0 ? this.zeros(x) : weightedSum(outs, ws)
  }
}

/**
 * Σ_k w_k · y_k with its gradient written out: dy_k = w_k · dy and dw_k = Σ dy ⊙ y_k.
 * Differentiating `tf.mul` + `tf.addN` instead keeps the inputs of every weighted product
 * for the backward pass and clones dy once per candidate there (AddN's gradient); here the
 * y_k and w_k are saved once and the sum's intermediates are released in the forward pass.
 */
export function weightedSum(ys: readonly tf.Tensor4D[], ws: readonly tf.Scalar[]): tf.Tensor4D {
  const n = ys.length
  if (n !== ws.length || n === 0) {
    throw new NaskitError('E_SUPERNET', 'weightedSum needs one weight per tensor.')
  }
  const op = tf.customGrad((...args: unknown[]) => {
    const y = args.slice(0, n) as tf.Tensor4D[]
    const w = args.slice(n, 2 * n) as tf.Scalar[]
    const save = args[2 * n] as tf.GradSaveFunc
    save([...y, ...w])
    let value = tf.mul(y[0]!, w[0]!) as tf.Tensor4D
    for (let k = 1; k < n; k++) value = tf.add(value, tf.mul(y[k]!, w[k]!)) as tf.Tensor4D
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [
        ...saved.slice(n).map((wk) => tf.mul(dy, wk)),
        ...saved.slice(0, n).map((yk) => tf.tidy(() => tf.sum(tf.mul(dy, yk)))),
      ],
    }
  }) as unknown as (...xs: tf.Tensor[]) => tf.Tensor4D
  return op(...ys, ...ws)
}

let archVariableCount = 0

/** The cell spaces DARTS searches. */
export type CellSpaceKind = 'nb201' | 'darts'

/** Shape of the supernet. */
export interface SupernetOptions {
  /** Initial channels C (default 16). */
  channels?: number
  /** nb201: cells per stage N (default 5); darts: number of cells (default 8). */
  layers?: number
  numClasses?: number
  inputShape?: [number, number, number]
  seed?: number
}

/** The searchable cell layout of a space: which ops, which edges, which cell kinds. */
export interface CellLayout {
  space: CellSpaceKind
  ops: string[]
  kinds: CellKind[]
  edges: EdgeRef[]
}

function cellOps(space: SearchSpace, decision: string): string[] {
  const d = space.decisions[decision] as { type?: string; ops?: readonly string[] } | undefined
  if (d?.type !== 'cell' || !Array.isArray(d.ops)) {
    throw new NaskitError(
      'E_UNSUPPORTED_SPACE',
      `DARTS expected a cell decision "${decision}" in space "${space.name}".`,
    )
  }
  return [...d.ops]
}

/** Whether DARTS can search `space`: true, or the reason it cannot. */
export function supportsSpace(space: SearchSpace): true | string {
  const kind = builtInKind(space)
  if (kind !== 'nb201' && kind !== 'darts') {
    return `DARTS searches the nb201 and darts cell spaces; "${space.name}" is ${kind === null ? 'not a built-in space' : `a ${kind} space`}.`
  }
  try {
    cellLayout(space)
  } catch (e) {
    return (e as Error).message
  }
  return true
}

/** The edges and candidate ops of a space's cells. */
export function cellLayout(space: SearchSpace): CellLayout {
  const kind = builtInKind(space)
  if (kind === 'nb201') {
    const edges: EdgeRef[] = []
    for (let node = 1; node <= 3; node++)
      for (let input = 0; input < node; input++) edges.push({ node, input })
    return { space: 'nb201', ops: cellOps(space, 'cell'), kinds: ['normal'], edges }
  }
  if (kind === 'darts') {
    const ops = cellOps(space, 'normal')
    const reduceOps = cellOps(space, 'reduce')
    if (ops.join() !== reduceOps.join()) {
      throw new NaskitError(
        'E_UNSUPPORTED_SPACE',
        'DARTS needs the same candidate ops in the normal and the reduction cell.',
      )
    }
    const edges: EdgeRef[] = []
    for (let node = 2; node <= 5; node++)
      for (let input = 0; input < node; input++) edges.push({ node, input })
    return { space: 'darts', ops, kinds: ['normal', 'reduce'], edges }
  }
  throw new NaskitError(
    'E_UNSUPPORTED_SPACE',
    `DARTS searches the nb201 and darts cell spaces, not "${space.name}".`,
  )
}

function edgeIndex(layout: CellLayout, node: number, input: number): number {
  const i = layout.edges.findIndex((e) => e.node === node && e.input === input)
  if (i < 0) throw new NaskitError('E_SUPERNET', `No edge ${input} → ${node} in the cell layout.`)
  return i
}

/** A fully connected cell (every edge present), with a placeholder op the factory replaces. */
function fullCell(layout: CellLayout, placeholder: string) {
  const first = layout.space === 'nb201' ? 1 : 2
  const nodes: Array<{ inputs: number[]; ops: string[] }> = []
  for (let node = first; node < first + (layout.space === 'nb201' ? 3 : 4); node++) {
    const inputs = Array.from({ length: node }, (_, i) => i)
    nodes.push({ inputs, ops: inputs.map(() => placeholder) })
  }
  return { nodes }
}

/**
 * The DARTS supernet: the trainer's nb201 or darts network with a {@link MixedOp} on every
 * edge, and the architecture parameters (`alpha` for normal cells, `beta` for reduction
 * cells), one row per edge and one column per candidate op.
 */
export class DartsSupernet {
  readonly network: Network
  readonly layout: CellLayout
  readonly alphas: Record<CellKind, tf.Variable | null>
  readonly mixing: MixingContext = { current: { normal: null, reduce: null } }

  constructor(space: SearchSpace, options: SupernetOptions = {}) {
    this.layout = cellLayout(space)
    const seed = options.seed ?? 0
    const opCtx = initContext(seed + 7919)
    const common = {
      channels: options.channels ?? 16,
      numClasses: options.numClasses ?? 10,
      inputShape: options.inputShape ?? ([32, 32, 3] as [number, number, number]),
      seed,
    }
    const layout = this.layout
    if (layout.space === 'nb201') {
      this.network = new Nb201Network(
        { cell: fullCell(layout, 'nor_conv_3x3') },
        { ...common, cellsPerStage: options.layers ?? 5 },
        (e) =>
          new MixedOp(
            layout.ops,
            'normal',
            edgeIndex(layout, e.node, e.input),
            { channels: e.channels, stride: 1 },
            this.mixing,
            opCtx,
          ),
      )
    } else {
      const cell = fullCell(layout, 'sep_conv_3x3')
      this.network = new DartsNetwork(
        { normal: cell, reduce: cell },
        { ...common, layers: options.layers ?? 8, affine: false },
        (e) =>
          new MixedOp(
            layout.ops,
            e.reduction ? 'reduce' : 'normal',
            edgeIndex(layout, e.node, e.input),
            { channels: e.channels, stride: e.stride },
            this.mixing,
            opCtx,
          ),
      )
    }
    // DARTS initialises the architecture parameters at 1e-3 · N(0, 1).
    const init = (label: number) => {
      const rng = initContext(seed + label).rng
      const n = layout.edges.length * layout.ops.length
      const data = new Float32Array(n)
      for (let i = 0; i < n; i++) data[i] = 1e-3 * rng.normal()
      const t = tf.tensor2d(data, [layout.edges.length, layout.ops.length])
      const v = tf.variable(
        t,
        true,
        `darts_${label === 1 ? 'alpha' : 'beta'}_${++archVariableCount}`,
      )
      t.dispose()
      return v
    }
    this.alphas = {
      normal: init(1),
      reduce: layout.kinds.includes('reduce') ? init(2) : null,
    }
  }

  /** The architecture parameter variables (alpha, then beta when the space has one). */
  archVariables(): tf.Variable[] {
    return this.layout.kinds.map((k) => this.alphas[k]!)
  }

  /** The network's trainable weights. */
  weightVariables(): tf.Variable[] {
    return this.network.trainableVariables()
  }

  /** softmax(alpha) (and softmax(beta)) as plain numbers, [edge][op]. */
  softmaxWeights(): Record<CellKind, number[][] | null> {
    const read = (v: tf.Variable | null) => {
      if (v === null) return null
      const t = tf.softmax(v)
      const out = t.arraySync() as number[][]
      t.dispose()
      return out
    }
    return { normal: read(this.alphas.normal), reduce: read(this.alphas.reduce) }
  }

  /** The raw architecture parameters, [edge][op]. */
  alphaValues(): Record<CellKind, number[][] | null> {
    const read = (v: tf.Variable | null) => (v === null ? null : (v.arraySync() as number[][]))
    return { normal: read(this.alphas.normal), reduce: read(this.alphas.reduce) }
  }

  /**
   * Runs the supernet with the given per-edge weights (one [edges × ops] matrix per cell
   * kind, computed inside the caller's gradient tape) and returns the logits.
   */
  forwardWith(
    x: tf.Tensor4D,
    training: boolean,
    weights: Record<CellKind, EdgeWeights[] | null>,
  ): tf.Tensor2D {
    this.mixing.current = weights
    try {
      return this.network.apply(x, training)
    } finally {
      this.mixing.current = { normal: null, reduce: null }
    }
  }

  /** Runs the supernet with softmax(alpha) weights (DARTS's continuous relaxation). */
  forward(x: tf.Tensor4D, training: boolean): tf.Tensor2D {
    return this.forwardWith(x, training, softWeights(this))
  }

  /** Bytes held by the supernet's variables (weights, BN statistics, alphas). */
  paramBytes(): number {
    let n = 0
    for (const v of this.network.namedVariables()) n += v.variable.size * 4
    for (const v of this.archVariables()) n += v.size * 4
    return n
  }

  dispose(): void {
    this.network.dispose()
    for (const v of this.archVariables()) v.dispose()
  }
}

/** Splits an [edges × ops] matrix into per-edge lists of scalar tensors. */
export function rowsToScalars(m: tf.Tensor2D): tf.Scalar[][] {
  return tf.unstack(m).map((row) => tf.unstack(row) as tf.Scalar[])
}

/** softmax(alpha) per edge for every cell kind (call inside the gradient tape). */
export function softWeights(net: DartsSupernet): Record<CellKind, EdgeWeights[] | null> {
  const of = (v: tf.Variable | null): EdgeWeights[] | null =>
    v === null
      ? null
      : rowsToScalars(tf.softmax(v) as tf.Tensor2D).map((weights) => ({ mode: 'soft', weights }))
  return { normal: of(net.alphas.normal), reduce: of(net.alphas.reduce) }
}
