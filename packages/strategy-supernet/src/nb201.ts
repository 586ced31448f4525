import { type Arch, type CellValue, NaskitError, NB201_OPS, type SearchSpace } from '@naskit/core'
import type * as tf from '@tensorflow/tfjs'
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
  numClasses?: number
  /** Shape of the images fed to the network. @default [32, 32, 3] */
  inputShape?: [number, number, number]
  seed?: number
}

/** The current op of every edge, shared by the edges of all cells. */
type Selection = Map<string, number>

/** One edge of a cell: an op per candidate, running the one the current architecture selects. */
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
        (op) => createOp(op, { cIn: e.channels, cOut: e.channels, stride: 1 }, ctx),
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

  /** Points every edge at the op `arch` chooses for it. */
  select(arch: Arch): void {
    const nodes = (arch.cell as CellValue | undefined)?.nodes
    if (!Array.isArray(nodes) || nodes.length !== 3) {
      throw new NaskitError(
        'E_INVALID_ARCH',
        'Not an nb201 architecture: expected { cell: { nodes: [3 nodes] } }.',
      )
    }
    this.selection.clear()
    nodes.forEach((n, k) => {
      n.inputs.forEach((input, e) => {
        const op = n.ops[e] as string
        const i = this.opIndex.get(op)
        if (i === undefined)
          throw new NaskitError('E_INVALID_ARCH', `Op "${op}" is not in the supernet.`)
        this.selection.set(edgeKey(k + 1, input), i)
      })
    })
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
