/** A value of a categorical decision. */
export type Choice = string | number | boolean

/** One decision of a search space, in its JSON form. */
export type DecisionSpec = CategoricalSpec | IntSpec | FloatSpec | RepeatSpec | CellSpec | GroupSpec

export interface CategoricalSpec {
  type: 'categorical'
  choices: Choice[]
  description?: string
}

export interface IntSpec {
  type: 'int'
  low: number
  high: number
  /** Grid step (default 1). */
  step?: number
  /** Sample on a log scale (needs low > 0). */
  log?: boolean
  description?: string
}

export interface FloatSpec {
  type: 'float'
  low: number
  high: number
  /** Grid step; without one the decision is continuous. */
  step?: number
  log?: boolean
  description?: string
}

/** A block repeated `min`–`max` times; the count is itself a decision (variable depth). */
export interface RepeatSpec {
  type: 'repeat'
  min: number
  max: number
  body: Record<string, DecisionSpec>
  description?: string
}

/**
 * A DAG cell. Nodes `0 … inputs-1` are the cell's inputs; intermediate node `inputs + i`
 * (i = 0 … nodes-1) sums one operation applied to each of its chosen predecessors.
 * `inputsPerNode: 'all'` connects every predecessor (NAS-Bench-201, with a `none` op to
 * drop an edge); a number k lets each node choose k distinct predecessors (DARTS).
 */
export interface CellSpec {
  type: 'cell'
  inputs: number
  nodes: number
  ops: string[]
  inputsPerNode: 'all' | number
  description?: string
}

/** Named decisions nested under one name. */
export interface GroupSpec {
  type: 'group'
  decisions: Record<string, DecisionSpec>
  description?: string
}

/** A search space in its JSON form. */
export interface SpaceSpec {
  name: string
  /** Which family of networks the space describes (`chain`, `nasnet`, `nb201`, `darts` or a user name). */
  kind?: string
  description?: string
  decisions: Record<string, DecisionSpec>
}

/** One node of a cell value: its predecessors and the op on each incoming edge. */
export interface CellNodeValue {
  inputs: number[]
  ops: string[]
}

export interface CellValue {
  nodes: CellNodeValue[]
}

/** The value of one decision inside an architecture. */
export type ArchValue = Choice | CellValue | Arch | Arch[]

/** An architecture: a value for every active decision of a space. Plain JSON. */
export interface Arch {
  [name: string]: ArchValue
}

/**
 * One point where a policy chooses among `n` options while an architecture is built
 * (see `SearchSpace.build`). `id` names the decision (`layers.2.op`), `group` names the
 * decision independently of repeat indices (`layers.*.op`), so policies can share
 * parameters across repeated layers.
 */
export interface DecisionPoint {
  id: string
  group: string
  kind: 'categorical' | 'numeric' | 'count' | 'input' | 'op'
  /** Number of options. */
  n: number
  /** Labels of the options, for display and embeddings. */
  labels: readonly string[]
}

/** Chooses an option index in [0, point.n) at a decision point. */
export type Chooser = (point: DecisionPoint) => number
