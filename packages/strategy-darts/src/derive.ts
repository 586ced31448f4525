import { type Arch, NaskitError } from '@naskit/core'
import type { CellLayout } from './supernet.js'

/** Architecture weights per edge: [edge][op], in the layout's edge and op order. */
export type EdgeMatrix = number[][]

function strongest(row: number[], ops: readonly string[]): { op: string; weight: number } {
  let best = -1
  for (let k = 0; k < ops.length; k++) {
    if (ops[k] === 'none') continue
    if (best < 0 || row[k]! > row[best]!) best = k
  }
  if (best < 0) {
    throw new NaskitError('E_DERIVE', 'Every candidate op is `none`: nothing can be derived.')
  }
  return { op: ops[best]!, weight: row[best]! }
}

function checkShape(m: EdgeMatrix, layout: CellLayout, what: string) {
  if (m.length !== layout.edges.length || m.some((r) => r.length !== layout.ops.length)) {
    throw new NaskitError(
      'E_DERIVE',
      `${what} must be ${layout.edges.length} edges × ${layout.ops.length} ops.`,
    )
  }
}

/**
 * NAS-Bench-201 derivation: on every edge, the strongest candidate other than `none`.
 */
export function deriveNb201(weights: EdgeMatrix, layout: CellLayout): Arch {
  checkShape(weights, layout, 'alpha')
  const nodes: Array<{ inputs: number[]; ops: string[] }> = []
  layout.edges.forEach((e, i) => {
    const node = nodes[e.node - 1] ?? { inputs: [], ops: [] }
    nodes[e.node - 1] = node
    node.inputs.push(e.input)
    node.ops.push(strongest(weights[i]!, layout.ops).op)
  })
  return { cell: { nodes } }
}

/**
 * DARTS derivation of one cell: every intermediate node keeps its two incoming edges whose
 * strongest non-`none` op weighs most (ties: the earlier input), each with that op.
 */
export function deriveDartsCell(
  weights: EdgeMatrix,
  layout: CellLayout,
  keep = 2,
): { nodes: Array<{ inputs: number[]; ops: string[] }> } {
  checkShape(weights, layout, 'alpha/beta')
  const byNode = new Map<number, Array<{ input: number; op: string; weight: number }>>()
  layout.edges.forEach((e, i) => {
    const list = byNode.get(e.node) ?? []
    list.push({ input: e.input, ...strongest(weights[i]!, layout.ops) })
    byNode.set(e.node, list)
  })
  const nodes = [...byNode.keys()]
    .sort((a, b) => a - b)
    .map((node) => {
      const chosen = byNode
        .get(node)!
        .slice()
        .sort((a, b) => b.weight - a.weight || a.input - b.input)
        .slice(0, keep)
        .sort((a, b) => a.input - b.input)
      return { inputs: chosen.map((c) => c.input), ops: chosen.map((c) => c.op) }
    })
  return { nodes }
}

/**
 * Derives the discrete architecture from softmax-normalised architecture weights:
 * nb201, the strongest non-`none` op per edge; darts, per node the top-2 incoming edges
 * ranked by their strongest non-`none` op, for the normal (alpha) and reduction (beta) cell.
 */
export function deriveArchitecture(
  weights: { normal: EdgeMatrix | null; reduce: EdgeMatrix | null },
  layout: CellLayout,
): Arch {
  if (weights.normal === null) throw new NaskitError('E_DERIVE', 'alpha is missing.')
  if (layout.space === 'nb201') return deriveNb201(weights.normal, layout)
  if (weights.reduce === null) throw new NaskitError('E_DERIVE', 'beta is missing.')
  return {
    normal: deriveDartsCell(weights.normal, layout),
    reduce: deriveDartsCell(weights.reduce, layout),
  }
}
