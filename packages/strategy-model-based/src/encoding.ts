import {
  type Arch,
  type CellNodeValue,
  type CellSpec,
  type CellValue,
  NaskitError,
  type SearchSpace,
} from '@naskit/core'

/** How architectures are turned into vectors for the predictors. */
export type EncodingKind = 'onehot' | 'path' | 'auto'

/** A sparse vector: the indices of its non-zero entries (increasing) and their values. */
export interface SparseVector {
  readonly index: Int32Array
  readonly value: Float64Array
}

/** Turns architectures of one space into fixed-length sparse vectors. */
export interface ArchEncoder {
  /** `onehot` or `path` (what `auto` resolved to). */
  readonly kind: 'onehot' | 'path'
  /** Length of the vectors. */
  readonly length: number
  encode(arch: Arch): SparseVector
}

/** Ops that stand for "no edge" in a cell: a path through them carries nothing. */
const EMPTY_OPS: ReadonlySet<string> = new Set(['none', 'zero'])

/** Largest path encoding `auto` picks (features added by all cells together). */
export const MAX_AUTO_PATH_FEATURES = 512

interface CellPaths {
  name: string
  spec: CellSpec
  /** Op → index among the ops that carry data, or -1 for an empty op. */
  opIndex: Map<string, number>
  /** Number of ops that carry data. */
  live: number
  /** Offsets of the features of paths of each length (1 … nodes), per cell input. */
  offsets: number[][]
  /** Number of path features of this cell. */
  features: number
}

/** The top-level cell decisions of a space and the size of their path encoding. */
function cellPaths(space: SearchSpace): CellPaths[] {
  const out: CellPaths[] = []
  for (const [name, spec] of Object.entries(space.decisions)) {
    if (spec.type !== 'cell') continue
    const opIndex = new Map<string, number>()
    let live = 0
    for (const op of spec.ops) opIndex.set(op, EMPTY_OPS.has(op) ? -1 : live++)
    const offsets: number[][] = []
    let features = 0
    for (let input = 0; input < spec.inputs; input++) {
      const row: number[] = []
      let width = 1
      for (let len = 1; len <= spec.nodes; len++) {
        width *= live
        row.push(features)
        features += width
        if (!Number.isFinite(features) || features > 1e9) break
      }
      offsets.push(row)
    }
    out.push({ name, spec, opIndex, live, offsets, features })
  }
  return out
}

/** Number of path features a space would add to its one-hot encoding (0 without cells). */
export function pathFeatureCount(space: SearchSpace): number {
  return cellPaths(space).reduce((s, c) => s + c.features, 0)
}

function toSparse(dense: readonly number[], extra: Map<number, number> | null): SparseVector {
  const idx: number[] = []
  const val: number[] = []
  for (let i = 0; i < dense.length; i++) {
    const v = dense[i] as number
    if (v !== 0) {
      idx.push(i)
      val.push(v)
    }
  }
  if (extra !== null) {
    const keys = [...extra.keys()].sort((a, b) => a - b)
    for (const k of keys) {
      idx.push(dense.length + k)
      val.push(extra.get(k) as number)
    }
  }
  return { index: Int32Array.from(idx), value: Float64Array.from(val) }
}

/**
 * The encoder of `space`. `onehot` is `space.encode()` (one-hot categoricals and cell edges,
 * numbers in [0, 1]). `path` appends, for every cell, the paths from each cell input to the
 * cell's outputs as op sequences (White et al. 2021), counted: cells that compute the same
 * function through different edges share features, and edges off every path count for
 * nothing. `auto` picks `path` when the space has cells and their path features number at most
 * {@link MAX_AUTO_PATH_FEATURES}, else `onehot`.
 */
export function createEncoder(space: SearchSpace, kind: EncodingKind = 'auto'): ArchEncoder {
  const cells = cellPaths(space)
  const pathCount = cells.reduce((s, c) => s + c.features, 0)
  const resolved: 'onehot' | 'path' =
    kind === 'auto'
      ? pathCount > 0 && pathCount <= MAX_AUTO_PATH_FEATURES
        ? 'path'
        : 'onehot'
      : kind
  if (resolved === 'path' && pathCount === 0) {
    throw new NaskitError(
      'E_BAD_OPTIONS',
      `encoding "path" needs a space with a cell decision; space "${space.name}" has none. Use encoding "onehot" or "auto".`,
    )
  }
  if (resolved === 'path' && pathCount > 1_000_000) {
    throw new NaskitError(
      'E_BAD_OPTIONS',
      `encoding "path" of space "${space.name}" would have ${pathCount} features, too many. Use encoding "onehot" or "auto".`,
    )
  }
  const base = space.encodingLength
  if (resolved === 'onehot') {
    return {
      kind: 'onehot',
      length: base,
      encode: (arch) => toSparse(space.encode(arch), null),
    }
  }
  const cellOffsets: number[] = []
  let acc = 0
  for (const c of cells) {
    cellOffsets.push(acc)
    acc += c.features
  }
  return {
    kind: 'path',
    length: base + pathCount,
    encode(arch: Arch): SparseVector {
      const extra = new Map<number, number>()
      cells.forEach((c, ci) => {
        const value = arch[c.name] as CellValue | undefined
        if (value && Array.isArray(value.nodes))
          addPaths(c, value, cellOffsets[ci] as number, extra)
      })
      return toSparse(space.encode(arch), extra)
    },
  }
}

/** Counts the input→output paths of one cell into `extra` (feature → count). */
function addPaths(c: CellPaths, value: CellValue, offset: number, extra: Map<number, number>) {
  const { inputs, nodes } = c.spec
  const total = inputs + nodes
  const consumed = new Uint8Array(total)
  for (const node of value.nodes) for (const i of node.inputs) consumed[i] = 1
  // paths reaching each node: (input, length, code) with code the op sequence in base `live`
  const reach: Array<Array<[number, number, number]>> = Array.from({ length: total }, () => [])
  for (let i = 0; i < inputs; i++) reach[i] = [[i, 0, 0]]
  for (let n = 0; n < nodes; n++) {
    const node = value.nodes[n] as CellNodeValue
    const here: Array<[number, number, number]> = []
    for (let e = 0; e < node.inputs.length; e++) {
      const op = c.opIndex.get(node.ops[e] as string)
      if (op === undefined || op < 0) continue
      for (const [input, len, code] of reach[node.inputs[e] as number] ?? [])
        here.push([input, len + 1, code * c.live + op])
    }
    reach[inputs + n] = here
  }
  for (let n = 0; n < nodes; n++) {
    if (consumed[inputs + n] === 1) continue
    for (const [input, len, code] of reach[inputs + n] ?? []) {
      const f = offset + ((c.offsets[input] as number[])[len - 1] as number) + code
      extra.set(f, (extra.get(f) ?? 0) + 1)
    }
  }
}

/** A dense copy of a sparse vector. */
export function toDense(v: SparseVector, length: number): Float64Array {
  const out = new Float64Array(length)
  for (let k = 0; k < v.index.length; k++) out[v.index[k] as number] = v.value[k] as number
  return out
}

/** Squared Euclidean distance of two sparse vectors (indices increasing). */
export function squaredDistance(a: SparseVector, b: SparseVector): number {
  let i = 0
  let j = 0
  let d = 0
  const ai = a.index
  const bi = b.index
  const av = a.value
  const bv = b.value
  while (i < ai.length && j < bi.length) {
    const x = ai[i] as number
    const y = bi[j] as number
    if (x === y) {
      const t = (av[i] as number) - (bv[j] as number)
      d += t * t
      i++
      j++
    } else if (x < y) {
      d += (av[i] as number) ** 2
      i++
    } else {
      d += (bv[j] as number) ** 2
      j++
    }
  }
  for (; i < ai.length; i++) d += (av[i] as number) ** 2
  for (; j < bi.length; j++) d += (bv[j] as number) ** 2
  return d
}

/** Dot product of two sparse vectors (indices increasing). */
export function dot(a: SparseVector, b: SparseVector): number {
  let i = 0
  let j = 0
  let s = 0
  while (i < a.index.length && j < b.index.length) {
    const x = a.index[i] as number
    const y = b.index[j] as number
    if (x === y) {
      s += (a.value[i] as number) * (b.value[j] as number)
      i++
      j++
    } else if (x < y) i++
    else j++
  }
  return s
}
