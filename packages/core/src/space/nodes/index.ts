import type { DecisionSpec } from '../types'
import { CategoricalNode } from './categorical'
import { CellNode } from './cell'
import { GroupNode } from './group'
import { NumericNode } from './numeric'
import { RepeatNode } from './repeat'
import { bad, type DecisionNode, describeValue, MAX_DEPTH } from './shared'

export { CONTINUOUS_BINS } from './numeric'
export type { DecisionNode, Issue } from './shared'
export type { GroupNode }

/** Compiles a decision spec, checking it (`E_INVALID_SPACE` names its path). */
export function compileDecision(spec: DecisionSpec, path: string): DecisionNode {
  if (depthOf(path) > MAX_DEPTH)
    throw bad(
      path.length > 80 ? `${path.slice(0, 80)}…` : path,
      `decisions nest more than ${MAX_DEPTH} levels deep; flatten the space.`,
    )
  if (spec === null || typeof spec !== 'object')
    throw bad(path, `expected a decision object, got ${describeValue(spec)}.`)
  switch (spec.type) {
    case 'categorical':
      return new CategoricalNode(spec, path)
    case 'int':
    case 'float':
      return new NumericNode(spec, path)
    case 'repeat':
      return new RepeatNode(spec, path, compileDecision)
    case 'cell':
      return new CellNode(spec, path)
    case 'group':
      return new GroupNode(spec, path, compileDecision)
    default:
      throw bad(
        path,
        `unknown decision type ${describeValue((spec as { type?: unknown }).type)} (expected categorical, int, float, repeat, cell or group).`,
      )
  }
}

/** Nesting level of the decision at `path` (1 for a top-level decision). */
function depthOf(path: string): number {
  let n = 1
  for (let i = 0; i < path.length; i++) if (path.charCodeAt(i) === 46 /* . */) n++
  return n
}

/** Compiles the top-level decisions of a space. */
export function compileRoot(decisions: Record<string, DecisionSpec>): GroupNode {
  return new GroupNode({ type: 'group', decisions }, '', compileDecision)
}
