import { cell } from '../space/dsl'
import { defineSpace, type SearchSpace } from '../space/space'

/** The DARTS operations. */
export const DARTS_OPS = [
  'none',
  'max_pool_3x3',
  'avg_pool_3x3',
  'skip_connect',
  'sep_conv_3x3',
  'sep_conv_5x5',
  'dil_conv_3x3',
  'dil_conv_5x5',
] as const

/**
 * The DARTS cell space: a normal and a reduction cell, each with 2 inputs (the two previous
 * cells' outputs) and 4 intermediate nodes that each pick 2 distinct predecessors and an op
 * per chosen edge. Input indices 0 and 1 are the cell inputs, 2–5 the intermediate nodes.
 *
 * Architectures look like `{ normal: { nodes: [{ inputs: [0, 1], ops: ['sep_conv_3x3', 'skip_connect'] }, …] }, reduce: {…} }`.
 */
export function dartsSpace(options: { ops?: readonly string[] } = {}): SearchSpace {
  const ops = options.ops ?? DARTS_OPS
  return defineSpace(
    'darts',
    {
      normal: cell({ inputs: 2, nodes: 4, ops, inputsPerNode: 2, description: 'the normal cell' }),
      reduce: cell({
        inputs: 2,
        nodes: 4,
        ops,
        inputsPerNode: 2,
        description: 'the reduction cell',
      }),
    },
    {
      kind: 'darts',
      description: 'DARTS normal and reduction cells: 4 nodes with 2 inputs each, 8 ops.',
    },
  )
}
