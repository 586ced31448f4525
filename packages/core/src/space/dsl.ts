import type {
  CategoricalSpec,
  CellSpec,
  Choice,
  DecisionSpec,
  FloatSpec,
  GroupSpec,
  IntSpec,
  RepeatSpec,
} from './types'

/** One value out of a list. */
export function categorical(
  choices: readonly Choice[],
  options: { description?: string } = {},
): CategoricalSpec {
  return { type: 'categorical', choices: [...choices], ...options }
}

/** An integer in [low, high] on a grid of `step` (default 1), optionally sampled log-uniformly. */
export function int(
  low: number,
  high: number,
  options: { step?: number; log?: boolean; description?: string } = {},
): IntSpec {
  return { type: 'int', low, high, ...options }
}

/** A number in [low, high]; continuous unless a `step` is given. */
export function float(
  low: number,
  high: number,
  options: { step?: number; log?: boolean; description?: string } = {},
): FloatSpec {
  return { type: 'float', low, high, ...options }
}

/** A block of decisions repeated min–max times; the count is a decision too (variable depth). */
export function repeat(
  count: { min: number; max: number },
  body: Record<string, DecisionSpec>,
  options: { description?: string } = {},
): RepeatSpec {
  return { type: 'repeat', min: count.min, max: count.max, body, ...options }
}

/** A DAG cell: see {@link CellSpec}. */
export function cell(options: {
  inputs: number
  nodes: number
  ops: readonly string[]
  inputsPerNode?: 'all' | number
  description?: string
}): CellSpec {
  const { ops, inputsPerNode = 'all', ...rest } = options
  return { type: 'cell', ops: [...ops], inputsPerNode, ...rest }
}

/** Nests named decisions under one name. */
export function group(
  decisions: Record<string, DecisionSpec>,
  options: { description?: string } = {},
): GroupSpec {
  return { type: 'group', decisions, ...options }
}
