import type { Rng } from '../../rng'
import type { ArchValue, CellNodeValue, CellSpec, CellValue, Chooser } from '../types'
import {
  bad,
  type DecisionNode,
  describeValue,
  FORBIDDEN_IN_CHOICE,
  type Issue,
  type Traced,
} from './shared'

/** A DAG cell: each node applies an op to each of its chosen predecessors and sums them. */
export class CellNode implements DecisionNode {
  readonly encodingLength: number
  readonly k: number | 'all'
  private readonly opIndex = new Map<string, number>()
  private readonly inputLabels: string[][]

  constructor(
    readonly spec: CellSpec,
    path: string,
  ) {
    const { inputs, nodes, ops, inputsPerNode } = spec
    if (!Number.isInteger(inputs) || inputs < 1) throw bad(path, 'a cell needs inputs ≥ 1.')
    if (!Number.isInteger(nodes) || nodes < 1) throw bad(path, 'a cell needs nodes ≥ 1.')
    if (!Array.isArray(ops) || ops.length === 0) throw bad(path, 'a cell needs at least one op.')
    ops.forEach((op) => {
      if (typeof op !== 'string' || op === '' || FORBIDDEN_IN_CHOICE.test(op)) {
        throw bad(
          path,
          `op ${JSON.stringify(op)} must be a non-empty string without ;={}[],|~+ or spaces.`,
        )
      }
      if (this.opIndex.has(op)) throw bad(path, `op ${JSON.stringify(op)} appears twice.`)
      this.opIndex.set(op, this.opIndex.size)
    })
    if (inputsPerNode !== 'all') {
      if (!Number.isInteger(inputsPerNode) || inputsPerNode < 1)
        throw bad(path, "inputsPerNode must be 'all' or an integer ≥ 1.")
      if (inputsPerNode > inputs)
        throw bad(
          path,
          `inputsPerNode (${inputsPerNode}) exceeds the cell's inputs (${inputs}); the first node could not choose.`,
        )
    }
    this.k = inputsPerNode
    let len = 0
    for (let i = 0; i < nodes; i++) len += (inputs + i) * ops.length
    this.encodingLength = len
    this.inputLabels = Array.from({ length: nodes }, (_, i) =>
      Array.from({ length: inputs + i }, (_, j) => String(j)),
    )
  }

  private fanIn(i: number): number {
    return this.k === 'all' ? this.spec.inputs + i : this.k
  }

  sample(rng: Rng): ArchValue {
    const { inputs, nodes, ops } = this.spec
    const out: CellValue = { nodes: new Array(nodes) }
    for (let i = 0; i < nodes; i++) {
      const cand = inputs + i
      let ins: number[]
      if (this.k === 'all') {
        ins = new Array(cand)
        for (let j = 0; j < cand; j++) ins[j] = j
      } else {
        ins = rng.sampleIndices(cand, this.k).sort((a, b) => a - b)
      }
      const o = new Array<string>(ins.length)
      for (let j = 0; j < ins.length; j++) o[j] = ops[Math.floor(rng.next() * ops.length)] as string
      out.nodes[i] = { inputs: ins, ops: o }
    }
    return out
  }

  check(value: unknown): Issue | null {
    const { inputs, nodes } = this.spec
    if (value === null || typeof value !== 'object' || !Array.isArray((value as CellValue).nodes)) {
      return { path: '', message: `expected a cell { nodes: [...] }, got ${describeValue(value)}` }
    }
    const v = value as CellValue
    if (Object.keys(v).length !== 1) return { path: '', message: 'a cell holds only `nodes`' }
    if (v.nodes.length !== nodes)
      return { path: 'nodes', message: `has ${v.nodes.length} nodes; this cell has ${nodes}` }
    for (let i = 0; i < nodes; i++) {
      const node = v.nodes[i] as CellNodeLike
      const p = `nodes[${i}]`
      if (
        node === null ||
        typeof node !== 'object' ||
        !Array.isArray(node.inputs) ||
        !Array.isArray(node.ops)
      ) {
        return { path: p, message: 'expected { inputs: number[], ops: string[] }' }
      }
      const cand = inputs + i
      const fan = this.fanIn(i)
      if (node.inputs.length !== fan)
        return {
          path: `${p}.inputs`,
          message: `has ${node.inputs.length} inputs; node ${inputs + i} takes ${fan}`,
        }
      if (node.ops.length !== node.inputs.length)
        return {
          path: `${p}.ops`,
          message: `has ${node.ops.length} ops for ${node.inputs.length} inputs`,
        }
      let seen = 0
      for (let j = 0; j < fan; j++) {
        const x = node.inputs[j]
        if (typeof x !== 'number' || !Number.isInteger(x) || x < 0 || x >= cand) {
          return {
            path: `${p}.inputs[${j}]`,
            message: `${describeValue(x)} is not a predecessor of node ${inputs + i} (0–${cand - 1})`,
          }
        }
        const bit = 2 ** x
        if (Math.floor(seen / bit) % 2 === 1)
          return { path: `${p}.inputs[${j}]`, message: `input ${x} appears twice` }
        seen += bit
        const op = node.ops[j]
        if (!this.opIndex.has(op as string)) {
          return {
            path: `${p}.ops[${j}]`,
            message: `${describeValue(op)} is not one of ${this.spec.ops.join(', ')}`,
          }
        }
      }
    }
    return null
  }

  canonical(value: ArchValue): ArchValue {
    const v = value as CellValue
    return {
      nodes: v.nodes.map((node) => {
        const order = node.inputs
          .map((_, j) => j)
          .sort((a, b) => (node.inputs[a] as number) - (node.inputs[b] as number))
        return {
          inputs: order.map((j) => node.inputs[j] as number),
          ops: order.map((j) => node.ops[j] as string),
        }
      }),
    }
  }

  key(value: ArchValue): string {
    const v = value as CellValue
    let s = ''
    for (let i = 0; i < v.nodes.length; i++) {
      if (i > 0) s += '+'
      const node = v.nodes[i] as CellNodeValue
      const ins = node.inputs
      let sorted = true
      for (let j = 1; j < ins.length; j++)
        if ((ins[j] as number) < (ins[j - 1] as number)) sorted = false
      const order = sorted
        ? null
        : ins.map((_, j) => j).sort((a, b) => (ins[a] as number) - (ins[b] as number))
      for (let j = 0; j < ins.length; j++) {
        const jj = order ? (order[j] as number) : j
        if (j > 0) s += '|'
        s += node.ops[jj]
        s += '~'
        s += ins[jj]
      }
    }
    return s
  }

  size(): bigint {
    const { inputs, nodes, ops } = this.spec
    const o = BigInt(ops.length)
    let total = 1n
    for (let i = 0; i < nodes; i++) {
      const cand = inputs + i
      const fan = this.fanIn(i)
      total *= binomial(cand, fan) * o ** BigInt(fan)
    }
    return total
  }

  *enumerate(): Generator<ArchValue> {
    const { inputs, nodes, ops } = this.spec
    const perNode: Array<Array<{ inputs: number[]; ops: string[] }>> = []
    for (let i = 0; i < nodes; i++) {
      const list: Array<{ inputs: number[]; ops: string[] }> = []
      for (const ins of combinations(inputs + i, this.fanIn(i))) {
        for (const o of product(ops, ins.length)) list.push({ inputs: ins, ops: o })
      }
      perNode.push(list)
    }
    const rec = function* (
      i: number,
      acc: Array<{ inputs: number[]; ops: string[] }>,
    ): Generator<ArchValue> {
      if (i === nodes) {
        yield { nodes: acc.map((n) => ({ inputs: n.inputs.slice(), ops: n.ops.slice() })) }
        return
      }
      for (const n of perNode[i] as Array<{ inputs: number[]; ops: string[] }>) {
        acc[i] = n
        yield* rec(i + 1, acc)
      }
    }
    yield* rec(0, new Array(nodes))
  }

  encode(value: ArchValue, out: number[], offset: number): void {
    const v = value as CellValue
    const nOps = this.spec.ops.length
    let o = offset
    for (let i = 0; i < v.nodes.length; i++) {
      const node = v.nodes[i] as CellNodeValue
      for (let j = 0; j < node.inputs.length; j++) {
        out[
          o +
            (node.inputs[j] as number) * nOps +
            (this.opIndex.get(node.ops[j] as string) as number)
        ] = 1
      }
      o += (this.spec.inputs + i) * nOps
    }
  }

  private nodeSites(i: number): number {
    const fan = this.fanIn(i)
    const opSites = this.spec.ops.length > 1 ? fan : 0
    const inputSites = this.k !== 'all' && this.spec.inputs + i > fan ? fan : 0
    return opSites + inputSites
  }

  sites(): number {
    let n = 0
    for (let i = 0; i < this.spec.nodes; i++) n += this.nodeSites(i)
    return n
  }

  mutate(value: ArchValue, site: number, rng: Rng): ArchValue {
    const v = value as CellValue
    let s = site
    for (let i = 0; i < v.nodes.length; i++) {
      const k = this.nodeSites(i)
      if (s >= k) {
        s -= k
        continue
      }
      const node = v.nodes[i] as CellNodeValue
      const fan = node.inputs.length
      const copy = { inputs: node.inputs.slice(), ops: node.ops.slice() }
      const opSites = this.spec.ops.length > 1 ? fan : 0
      if (s < opSites) {
        const cur = this.opIndex.get(node.ops[s] as string) as number
        const j = rng.int(this.spec.ops.length - 1)
        copy.ops[s] = this.spec.ops[j >= cur ? j + 1 : j] as string
      } else {
        const e = s - opSites
        const used = new Set(node.inputs)
        const free: number[] = []
        for (let x = 0; x < this.spec.inputs + i; x++) if (!used.has(x)) free.push(x)
        copy.inputs[e] = rng.pick(free)
      }
      const nodesOut = v.nodes.slice()
      nodesOut[i] = copy
      return this.canonical({ nodes: nodesOut })
    }
    throw new Error(`mutation site ${site} out of range`)
  }

  neighbours(value: ArchValue): ArchValue[] {
    const v = value as CellValue
    const out: ArchValue[] = []
    for (let i = 0; i < v.nodes.length; i++) {
      const node = v.nodes[i] as CellNodeValue
      for (let j = 0; j < node.inputs.length; j++) {
        for (const op of this.spec.ops) {
          if (op === node.ops[j]) continue
          const nodes = v.nodes.slice()
          const ops = node.ops.slice()
          ops[j] = op
          nodes[i] = { inputs: node.inputs.slice(), ops }
          out.push({ nodes })
        }
        if (this.k !== 'all') {
          const used = new Set(node.inputs)
          for (let x = 0; x < this.spec.inputs + i; x++) {
            if (used.has(x)) continue
            const nodes = v.nodes.slice()
            const ins = node.inputs.slice()
            ins[j] = x
            nodes[i] = { inputs: ins, ops: node.ops.slice() }
            out.push(this.canonical({ nodes }))
          }
        }
      }
    }
    return out
  }

  build(choose: Chooser, id: string, group: string): ArchValue {
    const { inputs, nodes, ops } = this.spec
    const out: CellValue = { nodes: new Array(nodes) }
    for (let i = 0; i < nodes; i++) {
      const cand = inputs + i
      const fan = this.fanIn(i)
      const pairs: Array<[number, string]> = []
      if (this.k === 'all') {
        for (let j = 0; j < cand; j++) {
          const o = choose({
            id: `${id}.${inputs + i}.${j}.op`,
            group: `${group}.${inputs + i}.${j}.op`,
            kind: 'op',
            n: ops.length,
            labels: ops,
          })
          pairs.push([j, ops[o] as string])
        }
      } else {
        const remaining = Array.from({ length: cand }, (_, j) => j)
        for (let e = 0; e < fan; e++) {
          const labels = remaining.map(String)
          const pick = choose({
            id: `${id}.${inputs + i}.in${e}`,
            group: `${group}.${inputs + i}.in${e}`,
            kind: 'input',
            n: remaining.length,
            labels,
          })
          const x = remaining.splice(pick, 1)[0] as number
          const o = choose({
            id: `${id}.${inputs + i}.op${e}`,
            group: `${group}.${inputs + i}.op${e}`,
            kind: 'op',
            n: ops.length,
            labels: ops,
          })
          pairs.push([x, ops[o] as string])
        }
        pairs.sort((a, b) => a[0] - b[0])
      }
      out.nodes[i] = { inputs: pairs.map((p) => p[0]), ops: pairs.map((p) => p[1]) }
    }
    void this.inputLabels
    return out
  }

  trace(value: ArchValue, id: string, group: string, out: Traced): void {
    const { inputs, ops } = this.spec
    const v = this.canonical(value) as CellValue
    for (let i = 0; i < v.nodes.length; i++) {
      const node = v.nodes[i] as CellNodeValue
      const cand = inputs + i
      if (this.k === 'all') {
        for (let j = 0; j < cand; j++) {
          out.push({
            point: {
              id: `${id}.${inputs + i}.${j}.op`,
              group: `${group}.${inputs + i}.${j}.op`,
              kind: 'op',
              n: ops.length,
              labels: ops,
            },
            index: this.opIndex.get(node.ops[j] as string) as number,
          })
        }
      } else {
        const remaining = Array.from({ length: cand }, (_, j) => j)
        for (let e = 0; e < node.inputs.length; e++) {
          const x = node.inputs[e] as number
          const pos = remaining.indexOf(x)
          out.push({
            point: {
              id: `${id}.${inputs + i}.in${e}`,
              group: `${group}.${inputs + i}.in${e}`,
              kind: 'input',
              n: remaining.length,
              labels: remaining.map(String),
            },
            index: pos,
          })
          remaining.splice(pos, 1)
          out.push({
            point: {
              id: `${id}.${inputs + i}.op${e}`,
              group: `${group}.${inputs + i}.op${e}`,
              kind: 'op',
              n: ops.length,
              labels: ops,
            },
            index: this.opIndex.get(node.ops[e] as string) as number,
          })
        }
      }
    }
  }
}

interface CellNodeLike {
  inputs: unknown[]
  ops: unknown[]
}

function binomial(n: number, k: number): bigint {
  let r = 1n
  for (let i = 0; i < k; i++) r = (r * BigInt(n - i)) / BigInt(i + 1)
  return r
}

function* combinations(n: number, k: number): Generator<number[]> {
  const idx = Array.from({ length: k }, (_, i) => i)
  if (k > n) return
  while (true) {
    yield idx.slice()
    let i = k - 1
    while (i >= 0 && idx[i] === n - k + i) i--
    if (i < 0) return
    idx[i] = (idx[i] as number) + 1
    for (let j = i + 1; j < k; j++) idx[j] = (idx[j - 1] as number) + 1
  }
}

function* product(items: readonly string[], k: number): Generator<string[]> {
  const idx = new Array<number>(k).fill(0)
  while (true) {
    yield idx.map((i) => items[i] as string)
    let p = k - 1
    while (p >= 0 && idx[p] === items.length - 1) {
      idx[p] = 0
      p--
    }
    if (p < 0) return
    idx[p] = (idx[p] as number) + 1
  }
}
