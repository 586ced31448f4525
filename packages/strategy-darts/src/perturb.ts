/**
 * DARTS-PT (Wang et al. 2021): perturbation-based selection of the architecture from a
 * supernet trained as plain DARTS, and the remedy that runs it after the last epoch, with its
 * tuning steps.
 */
import { type Arch, NaskitError, type Rng } from '@naskit/core'
import * as tf from '@tensorflow/tfjs'
import { type Batch, disposeBatch, endlessBatches } from './bilevel.js'
import type { Remedy } from './remedies.js'
import { type CellKind, type DartsSupernet, type EdgeWeights, rowsToScalars } from './supernet.js'
import { batches, yieldToEventLoop } from './trainer.js'

/** Decisions taken so far: per cell kind and edge, the kept op index (or null: still mixed). */
export type Decisions = Record<CellKind, Array<number | null>>

/** A candidate removed for one evaluation: an op on an edge, or the whole edge (`op: -1`). */
export interface Removal {
  kind: CellKind
  edge: number
  op: number
}

/**
 * Mixing weights for perturbation-based selection (call inside `tf.tidy`): decided edges are
 * one-hot on their op, the others keep softmax(alpha); `remove` zeroes one op of one edge
 * (or every op of the edge when `op` is -1), and `dropped` edges are removed entirely.
 */
export function perturbedWeights(
  net: DartsSupernet,
  decisions: Decisions,
  remove: Removal | null,
  dropped: ReadonlySet<string> = new Set(),
): Record<CellKind, EdgeWeights[] | null> {
  const of = (kind: CellKind): EdgeWeights[] | null => {
    const v = net.alphas[kind]
    if (v === null) return null
    const [e, k] = v.shape as [number, number]
    const soft = tf.softmax(v).dataSync()
    const m = new Float32Array(e * k)
    for (let i = 0; i < e; i++) {
      const d = decisions[kind][i]
      for (let j = 0; j < k; j++)
        m[i * k + j] = d === null || d === undefined ? soft[i * k + j]! : d === j ? 1 : 0
      const gone =
        dropped.has(`${kind}:${i}`) || (remove?.kind === kind && remove.edge === i && remove.op < 0)
      if (gone) for (let j = 0; j < k; j++) m[i * k + j] = 0
      else if (remove?.kind === kind && remove.edge === i) m[i * k + remove.op] = 0
    }
    return rowsToScalars(tf.tensor2d(m, [e, k])).map((weights) => ({ mode: 'soft', weights }))
  }
  return { normal: of('normal'), reduce: of('reduce') }
}

export interface EvalBatch {
  x: tf.Tensor4D
  y: tf.Tensor1D
}

/** Accuracy and mean loss of the supernet under the given weights (batch statistics in BN). */
export function evaluateWeights(
  net: DartsSupernet,
  batches: readonly EvalBatch[],
  weights: () => Record<CellKind, EdgeWeights[] | null>,
): { accuracy: number; loss: number } {
  let correct = 0
  let loss = 0
  let n = 0
  for (const b of batches) {
    const [c, l] = tf.tidy(() => {
      const logits = net.forwardWith(b.x, true, weights())
      const hits = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), b.y), 'int32'))
      const ce = tf.losses.softmaxCrossEntropy(tf.oneHot(b.y, net.network.numClasses), logits)
      return [hits.dataSync()[0]!, ce.dataSync()[0]!]
    })
    correct += c
    loss += l * b.x.shape[0]
    n += b.x.shape[0]
  }
  return { accuracy: correct / Math.max(1, n), loss: loss / Math.max(1, n) }
}

/**
 * What DARTS-PT ranks candidates by: `accuracy`, the validation accuracy a removal costs
 * (ties broken by the loss it adds); `loss`, the validation loss it adds.
 */
export type PerturbationCriterion = 'accuracy' | 'loss'

/** The score of a removal under the criterion: higher means the supernet needs it more. */
function damage(
  criterion: PerturbationCriterion,
  base: { accuracy: number; loss: number },
  r: { accuracy: number; loss: number },
) {
  return criterion === 'loss'
    ? r.loss - base.loss
    : base.accuracy - r.accuracy + 1e-3 * (r.loss - base.loss)
}

export interface PerturbationResult {
  arch: Arch
  /** Per kind and edge: the accuracy cost of removing each candidate (NaN for `none`). */
  scores: Record<CellKind, number[][] | null>
  /** darts: per kind and edge, the accuracy cost of removing the edge (after op selection). */
  edgeScores: Record<CellKind, number[] | null>
}

/**
 * DARTS-PT's perturbation-based selection (Wang et al. 2021): edges in random order; on each,
 * remove every candidate but `none` in turn and keep the one whose removal costs the supernet
 * the most validation accuracy (or adds the most validation loss, `criterion: 'loss'`);
 * discretise the edge, let `tune` train the weights a little, go on. For the darts space,
 * each node then keeps the two incoming edges whose removal costs most.
 */
export async function perturbationSelect(args: {
  net: DartsSupernet
  batches: readonly EvalBatch[]
  rng: Rng
  tune: (decisions: Decisions, dropped: ReadonlySet<string>) => Promise<void>
  /** Default `accuracy`, as in the paper. */
  criterion?: PerturbationCriterion
}): Promise<PerturbationResult> {
  const { net, rng } = args
  const criterion = args.criterion ?? 'accuracy'
  const layout = net.layout
  const decisions: Decisions = {
    normal: layout.edges.map(() => null),
    reduce: layout.edges.map(() => null),
  }
  const scores: PerturbationResult['scores'] = { normal: null, reduce: null }
  const order: Array<{ kind: CellKind; edge: number }> = []
  for (const kind of layout.kinds) {
    scores[kind] = layout.edges.map(() => layout.ops.map(() => Number.NaN))
    layout.edges.forEach((_, edge) => {
      order.push({ kind, edge })
    })
  }
  rng.shuffle(order)
  const candidates = layout.ops.map((o, i) => (o === 'none' ? -1 : i)).filter((i) => i >= 0)
  if (candidates.length === 0) throw new NaskitError('E_DERIVE', 'Every candidate op is `none`.')
  for (const { kind, edge } of order) {
    const base = evaluateWeights(net, args.batches, () => perturbedWeights(net, decisions, null))
    let best = candidates[0]!
    let bestScore = Number.NEGATIVE_INFINITY
    for (const op of candidates) {
      const r = evaluateWeights(net, args.batches, () =>
        perturbedWeights(net, decisions, { kind, edge, op }),
      )
      const s = damage(criterion, base, r)
      scores[kind]![edge]![op] = s
      if (s > bestScore) {
        bestScore = s
        best = op
      }
    }
    decisions[kind][edge] = best
    await args.tune(decisions, new Set())
  }
  const edgeScores: PerturbationResult['edgeScores'] = { normal: null, reduce: null }
  const opName = (kind: CellKind, edge: number) => layout.ops[decisions[kind][edge]!]!
  if (layout.space === 'nb201') {
    const nodes: Array<{ inputs: number[]; ops: string[] }> = []
    layout.edges.forEach((e, i) => {
      const node = nodes[e.node - 1] ?? { inputs: [], ops: [] }
      nodes[e.node - 1] = node
      node.inputs.push(e.input)
      node.ops.push(opName('normal', i))
    })
    return { arch: { cell: { nodes } }, scores, edgeScores }
  }
  // darts topology: per node, keep the two incoming edges whose removal costs most
  const dropped = new Set<string>()
  const cells: Record<string, { nodes: Array<{ inputs: number[]; ops: string[] }> }> = {}
  for (const kind of layout.kinds) {
    edgeScores[kind] = layout.edges.map(() => Number.NaN)
    const nodes = [...new Set(layout.edges.map((e) => e.node))]
    rng.shuffle(nodes)
    const kept = new Map<number, number[]>()
    for (const node of nodes) {
      const incoming = layout.edges.map((e, i) => ({ e, i })).filter((x) => x.e.node === node)
      const base = evaluateWeights(net, args.batches, () =>
        perturbedWeights(net, decisions, null, dropped),
      )
      for (const { i } of incoming) {
        const r = evaluateWeights(net, args.batches, () =>
          perturbedWeights(net, decisions, { kind, edge: i, op: -1 }, dropped),
        )
        edgeScores[kind]![i] = damage(criterion, base, r)
      }
      const top = incoming
        .slice()
        .sort((a, b) => edgeScores[kind]![b.i]! - edgeScores[kind]![a.i]! || a.e.input - b.e.input)
        .slice(0, 2)
      kept.set(
        node,
        top.map((t) => t.i),
      )
      for (const { i } of incoming) if (!top.some((t) => t.i === i)) dropped.add(`${kind}:${i}`)
      await args.tune(decisions, dropped)
    }
    cells[kind] = {
      nodes: [...kept.keys()]
        .sort((a, b) => a - b)
        .map((node) => {
          const edges = kept
            .get(node)!
            .slice()
            .sort((a, b) => layout.edges[a]!.input - layout.edges[b]!.input)
          return {
            inputs: edges.map((i) => layout.edges[i]!.input),
            ops: edges.map((i) => opName(kind, i)),
          }
        }),
    }
  }
  return { arch: { normal: cells.normal!, reduce: cells.reduce! }, scores, edgeScores }
}

/**
 * The `darts-pt` remedy: the supernet trains as plain DARTS; after the last epoch,
 * {@link perturbationSelect} picks the architecture on `ptEvalImages` images of the
 * architecture half, with `ptTuneSteps` weight steps on the weight half (learning rate halfway
 * between `lr` and `lrMin`) after each decision.
 */
export const dartsPt: Remedy = {
  name: 'darts-pt',
  async derive({ bilevel, halves, rng, signal, log }) {
    const { net, settings: r, sgd } = bilevel
    const t0 = performance.now()
    const arch = halves.arch
    const evalCount =
      r.ptEvalImages > 0 ? Math.min(r.ptEvalImages, arch.indices.length) : arch.indices.length
    const evalBatches: Batch[] = [
      ...batches(
        { ...arch, indices: arch.indices.slice(0, evalCount) },
        { batchSize: 128, resize: halves.resize },
      ),
    ]
    const tuning = endlessBatches(halves.weights, {
      batchSize: r.batchSize,
      rng: rng.fork('darts:pt:tune'),
      resize: halves.resize,
      dropLast: true,
    })
    sgd.learningRate = (r.lr + r.lrMin) / 2
    try {
      const sel = await perturbationSelect({
        net,
        batches: evalBatches,
        rng: rng.fork('darts:pt'),
        criterion: r.ptCriterion,
        tune: async (decisions, dropped) => {
          for (let i = 0; i < r.ptTuneSteps; i++) {
            if (signal?.aborted) throw new NaskitError('E_ABORTED', 'The DARTS search was aborted.')
            const b = tuning.next().value as Batch
            try {
              bilevel.weightStep(b, () => perturbedWeights(net, decisions, null, dropped))
            } finally {
              disposeBatch(b)
            }
          }
          await yieldToEventLoop()
        },
      })
      const timeMs = performance.now() - t0
      log?.info(`darts-pt: selected in ${(timeMs / 1000).toFixed(1)}s`)
      return { arch: sel.arch, selection: { ...sel, timeMs } }
    } finally {
      tuning.return(undefined)
      for (const b of evalBatches) disposeBatch(b)
    }
  },
}
