import { type Arch, type CellValue, NaskitError, NB201_OPS, type SearchSpace } from '@naskit/core'
import * as tf from '@tensorflow/tfjs'
import { Supernet, type SupernetSlot } from './supernet'
import {
  type BuildOptions,
  createOp,
  type EdgeFactory,
  initContext,
  Module,
  Nb201Network,
} from './trainer'

/** Options of the NAS-Bench-201 supernet. */
export interface Nb201SupernetOptions {
  /** Channels of the first stage (C). @default 16 */
  channels?: number
  /** Cells per stage (N). @default 5 */
  cellsPerStage?: number
  /**
   * Learned scale and shift in the batch norms of the cell edges' ops. `false` (as in
   * NAS-Bench-201's weight-sharing search cells and DARTS) keeps every op's output exactly
   * normalised; stand-alone networks keep affine batch norms. @default true
   */
  affine?: boolean
  numClasses?: number
  /** Shape of the images fed to the network. @default [32, 32, 3] */
  inputShape?: [number, number, number]
  seed?: number
}

/**
 * The current op of every edge, shared by the edges of all cells; {@link SKIP_EDGE} marks an
 * edge that contributes nothing to the cell's output.
 */
type Selection = Map<string, number>

/**
 * Selection of an edge that is `none`, or that feeds a node whose value never reaches the
 * cell output (all its outgoing edges are `none` or lead to such nodes).
 */
export const SKIP_EDGE = -1

/**
 * One edge of a cell: an op per candidate, running the one the current architecture selects.
 * A skipped edge ({@link SKIP_EDGE}) returns a constant zero tensor without running any op, so
 * it neither costs compute nor links the tape to weights outside the architecture's path.
 */
export class ChoiceEdge extends Module {
  readonly ops: Module[]

  constructor(
    readonly key: string,
    readonly names: readonly string[],
    make: (op: string) => Module,
    private readonly selection: Selection,
  ) {
    super()
    this.ops = names.map((op) => this.addModule(op, make(op)))
  }

  forward(x: tf.Tensor4D, training: boolean): tf.Tensor4D {
    const i = this.selection.get(this.key)
    if (i === undefined)
      throw new NaskitError('E_INVALID_ARCH', `No op was selected for edge ${this.key}.`)
    if (i === SKIP_EDGE) return tf.zeros(x.shape)
    return this.ops[i]!.apply(x, training)
  }
}

const edgeKey = (node: number, input: number) => `${node}<-${input}`

/**
 * The NAS-Bench-201 supernet: the trainer's NB201 network (stem, three stages of N cells,
 * residual reductions, classifier) whose every cell edge holds all five ops; the cells share
 * the architecture's genotype, each with weights of its own.
 */
export class Nb201Supernet extends Supernet {
  readonly kind = 'nb201' as const
  readonly network: Nb201Network
  private readonly selection: Selection = new Map()
  private readonly opIndex: ReadonlyMap<string, number>
  readonly options: Required<Omit<Nb201SupernetOptions, 'inputShape'>>

  constructor(space: SearchSpace, options: Nb201SupernetOptions = {}) {
    const inputShape = options.inputShape ?? [32, 32, 3]
    const numClasses = options.numClasses ?? 10
    super(space, inputShape, numClasses)
    this.options = {
      channels: options.channels ?? 16,
      cellsPerStage: options.cellsPerStage ?? 5,
      affine: options.affine ?? true,
      numClasses,
      seed: options.seed ?? 0,
    }
    const cellSpec = space.decisions.cell
    const ops = cellSpec && cellSpec.type === 'cell' ? cellSpec.ops : [...NB201_OPS]
    for (const op of ops) {
      if (!(NB201_OPS as readonly string[]).includes(op)) {
        throw new NaskitError(
          'E_UNSUPPORTED_SPACE',
          `The nb201 supernet cannot build op "${op}"; use ops among ${NB201_OPS.join(', ')}.`,
        )
      }
    }
    this.opIndex = new Map(ops.map((op, i) => [op, i]))
    const ctx = initContext(this.options.seed + 7919)
    const makeEdge: EdgeFactory = (e) =>
      new ChoiceEdge(
        edgeKey(e.node, e.input),
        ops,
        (op) =>
          createOp(
            op,
            { cIn: e.channels, cOut: e.channels, stride: 1, affine: this.options.affine },
            ctx,
          ),
        this.selection,
      )
    // every edge present; ChoiceEdge ignores the placeholder op
    const template = {
      cell: {
        nodes: [1, 2, 3].map((n) => ({
          inputs: Array.from({ length: n }, (_, j) => j),
          ops: Array.from({ length: n }, () => 'skip_connect'),
        })),
      },
    }
    this.network = this.root.add(
      'net',
      new Nb201Network(
        template,
        {
          channels: this.options.channels,
          cellsPerStage: this.options.cellsPerStage,
          numClasses,
          inputShape,
          seed: this.options.seed,
        },
        makeEdge,
      ),
    )
  }

  protected run(x: tf.Tensor4D, arch: Arch, training: boolean): tf.Tensor2D {
    this.select(arch)
    return this.network.apply(x, training)
  }

  /**
   * Points every edge at the op `arch` chooses for it. Edges that are `none`, or that feed a
   * node whose value never reaches the cell output, are skipped: they add nothing to the
   * output, so the subnet computes the same logits while its step only runs (and only
   * updates) the ops on the architecture's path.
   */
  select(arch: Arch): void {
    const nodes = (arch.cell as CellValue | undefined)?.nodes
    if (!Array.isArray(nodes) || nodes.length !== 3) {
      throw new NaskitError(
        'E_INVALID_ARCH',
        'Not an nb201 architecture: expected { cell: { nodes: [3 nodes] } }.',
      )
    }
    const chosen = new Map<string, number>()
    const isNone = new Map<string, boolean>()
    nodes.forEach((n, k) => {
      n.inputs.forEach((input, e) => {
        const op = n.ops[e] as string
        const i = this.opIndex.get(op)
        if (i === undefined)
          throw new NaskitError('E_INVALID_ARCH', `Op "${op}" is not in the supernet.`)
        chosen.set(edgeKey(k + 1, input), i)
        isNone.set(edgeKey(k + 1, input), op === 'none')
      })
    })
    // a node is live when its value reaches the output node through edges that are not `none`
    const live = [false, false, false, true]
    for (let j = 2; j >= 0; j--) {
      for (let m = j + 1; m <= 3; m++)
        if (live[m] && isNone.get(edgeKey(m, j)) === false) live[j] = true
    }
    this.selection.clear()
    for (const [key, i] of chosen) {
      const node = Number(key.slice(0, key.indexOf('<')))
      this.selection.set(key, isNone.get(key) || !live[node] ? SKIP_EDGE : i)
    }
  }

  slots(): SupernetSlot[] {
    const ops = [...this.opIndex.keys()]
    const out: SupernetSlot[] = []
    for (let node = 1; node <= 3; node++)
      for (let input = 0; input < node; input++) out.push({ id: `cell.${node}.${input}`, ops })
    return out
  }

  buildOptions(): BuildOptions {
    return {
      numClasses: this.numClasses,
      inputShape: this.inputShape,
      nb201: { channels: this.options.channels, cellsPerStage: this.options.cellsPerStage },
    }
  }
}
