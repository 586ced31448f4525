import { NaskitError } from '../errors'
import { cell } from '../space/dsl'
import { defineSpace, type SearchSpace } from '../space/space'
import type { Arch, CellValue } from '../space/types'

/** The NAS-Bench-201 operations, in the benchmark's order. */
export const NB201_OPS = [
  'none',
  'skip_connect',
  'nor_conv_1x1',
  'nor_conv_3x3',
  'avg_pool_3x3',
] as const
export type Nb201Op = (typeof NB201_OPS)[number]

const OP_SET: ReadonlySet<string> = new Set(NB201_OPS)

/**
 * The NAS-Bench-201 cell space: 4 nodes, every earlier node feeds every later one (6 edges),
 * each edge one of 5 ops: 15,625 architectures.
 *
 * Architectures look like `{ cell: { nodes: [{ inputs: [0], ops: ['nor_conv_3x3'] }, …] } }`.
 */
export function nb201Space(): SearchSpace {
  return defineSpace(
    'nb201',
    {
      cell: cell({
        inputs: 1,
        nodes: 3,
        ops: NB201_OPS,
        inputsPerNode: 'all',
        description: 'the NAS-Bench-201 cell',
      }),
    },
    { kind: 'nb201', description: 'NAS-Bench-201 cell: 6 edges × 5 ops, 15,625 architectures.' },
  )
}

function parseError(text: string, why: string): NaskitError {
  return new NaskitError(
    'E_PARSE_ARCH',
    `Cannot parse NAS-Bench-201 arch string ${JSON.stringify(text)}: ${why}. Expected the form |op~0|+|op~0|op~1|+|op~0|op~1|op~2| with ops ${NB201_OPS.join(', ')}.`,
  )
}

/** Parses a NAS-Bench-201 arch string such as `|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|…|`. */
export function nb201FromString(text: string): Arch {
  if (typeof text !== 'string') throw parseError(String(text), 'not a string')
  const nodes: CellValue['nodes'] = []
  let pos = 0
  for (let node = 0; node < 3; node++) {
    if (node > 0) {
      if (text.charCodeAt(pos) !== 43 /* + */)
        throw parseError(text, `expected '+' before node ${node + 1}`)
      pos++
    }
    if (text.charCodeAt(pos) !== 124 /* | */)
      throw parseError(text, `expected '|' at position ${pos}`)
    pos++
    const ops: string[] = new Array(node + 1)
    const inputs: number[] = new Array(node + 1)
    for (let j = 0; j <= node; j++) {
      const tilde = text.indexOf('~', pos)
      const bar = text.indexOf('|', pos)
      if (tilde < 0 || bar < 0 || tilde > bar)
        throw parseError(text, `edge ${j} of node ${node + 1} has no "op~input" form`)
      const op = text.slice(pos, tilde)
      if (!OP_SET.has(op)) throw parseError(text, `unknown op ${JSON.stringify(op)}`)
      if (bar !== tilde + 2 || text.charCodeAt(tilde + 1) !== 48 + j) {
        throw parseError(
          text,
          `edge ${j} of node ${node + 1} must read from node ${j}, found "${text.slice(tilde + 1, bar)}"`,
        )
      }
      ops[j] = op
      inputs[j] = j
      pos = bar + 1
    }
    nodes.push({ inputs, ops })
  }
  if (pos !== text.length) throw parseError(text, `unexpected text after position ${pos}`)
  return { cell: { nodes } }
}

let nb201Cache: SearchSpace | null = null

/**
 * Formats an nb201-space architecture as a NAS-Bench-201 arch string. `E_INVALID_ARCH` names
 * what is wrong when `arch` is not one (not an object, unknown ops, missing edges…).
 */
export function nb201ToString(arch: Arch): string {
  nb201Cache ??= nb201Space()
  const issue = nb201Cache.check(arch)
  if (issue !== null) {
    const where = issue.path === '' ? '' : `${issue.path}: `
    throw new NaskitError(
      'E_INVALID_ARCH',
      `Not an nb201-space architecture: ${where}${issue.message}. Expected { cell: { nodes: [3 nodes] } } with ops ${NB201_OPS.join(', ')} (nb201FromString parses an arch string).`,
      { details: { path: issue.path, space: 'nb201' } },
    )
  }
  const c = (nb201Cache.canonicalize(arch) as Arch).cell as CellValue
  let s = ''
  for (let i = 0; i < 3; i++) {
    const n = c.nodes[i] as CellValue['nodes'][number]
    if (i > 0) s += '+'
    s += '|'
    for (let j = 0; j < n.ops.length; j++) s += `${n.ops[j]}~${n.inputs[j]}|`
  }
  return s
}
