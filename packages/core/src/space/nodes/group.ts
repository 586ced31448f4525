import type { Rng } from '../../rng'
import type { Arch, ArchValue, Chooser, DecisionSpec, GroupSpec } from '../types'
import {
  bad,
  type CompileDecision,
  type DecisionNode,
  describeValue,
  type Issue,
  NAME_RE,
  RESERVED_NAMES,
  withPrefix,
  type Traced,
} from './shared'

/** Named decisions together: a space's root, a `group`, a repeated block. */
export class GroupNode implements DecisionNode {
  readonly names: string[]
  readonly children: DecisionNode[]
  readonly encodingLength: number
  private readonly nameSet: Set<string>

  constructor(
    readonly spec: GroupSpec,
    path: string,
    compile: CompileDecision,
  ) {
    const decisions = spec.decisions
    if (decisions === null || typeof decisions !== 'object' || Array.isArray(decisions)) {
      throw bad(path || '(root)', 'decisions must be an object mapping names to decisions.')
    }
    this.names = Object.keys(decisions)
    if (this.names.length === 0)
      throw bad(path || '(root)', 'a space or group needs at least one decision.')
    this.children = this.names.map((name) => {
      if (!NAME_RE.test(name))
        throw bad(
          path ? `${path}.${name}` : name,
          'decision names start with a letter or _ and hold only letters, digits and _.',
        )
      if (RESERVED_NAMES.has(name))
        throw bad(
          path ? `${path}.${name}` : name,
          `"${name}" is a property every JavaScript object has and cannot name a decision; choose another name.`,
        )
      return compile(decisions[name] as DecisionSpec, path ? `${path}.${name}` : name)
    })
    this.nameSet = new Set(this.names)
    this.encodingLength = this.children.reduce((s, c) => s + c.encodingLength, 0)
  }

  sample(rng: Rng): ArchValue {
    const out: Arch = {}
    const { names, children } = this
    for (let i = 0; i < names.length; i++)
      out[names[i] as string] = (children[i] as DecisionNode).sample(rng)
    return out
  }

  check(value: unknown): Issue | null {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      return {
        path: '',
        message: `expected an object with ${this.names.join(', ')}, got ${describeValue(value)}`,
      }
    }
    const v = value as Record<string, unknown>
    const { names, children } = this
    for (let i = 0; i < names.length; i++) {
      const name = names[i] as string
      const child = v[name]
      if (child === undefined) return { path: name, message: 'is missing' }
      const issue = (children[i] as DecisionNode).check(child)
      if (issue) return withPrefix(issue, name)
    }
    let own = 0
    for (const k in v) {
      own++
      if (!this.nameSet.has(k))
        return {
          path: k,
          message: `is not a decision of this space (expected ${names.join(', ')})`,
        }
    }
    if (own !== names.length) return { path: '', message: 'has unexpected entries' }
    return null
  }

  canonical(value: ArchValue): ArchValue {
    const v = value as Arch
    const out: Arch = {}
    for (let i = 0; i < this.names.length; i++) {
      const name = this.names[i] as string
      out[name] = (this.children[i] as DecisionNode).canonical(v[name] as ArchValue)
    }
    return out
  }

  key(value: ArchValue): string {
    const v = value as Arch
    const { names, children } = this
    let s = ''
    for (let i = 0; i < names.length; i++) {
      const name = names[i] as string
      const child = children[i] as DecisionNode
      if (i > 0) s += ';'
      s += name
      s += '='
      s +=
        child instanceof GroupNode
          ? `{${child.key(v[name] as ArchValue)}}`
          : child.key(v[name] as ArchValue)
    }
    return s
  }

  size(): bigint | null {
    let total = 1n
    for (const c of this.children) {
      const s = c.size()
      if (s === null) return null
      total *= s
    }
    return total
  }

  *enumerate(): Generator<ArchValue> {
    const { names, children } = this
    const rec = function* (i: number, acc: Arch): Generator<ArchValue> {
      if (i === names.length) {
        yield { ...acc }
        return
      }
      for (const v of (children[i] as DecisionNode).enumerate()) {
        acc[names[i] as string] = v
        yield* rec(i + 1, acc)
      }
    }
    yield* rec(0, {})
  }

  encode(value: ArchValue, out: number[], offset: number): void {
    const v = value as Arch
    let o = offset
    for (let i = 0; i < this.names.length; i++) {
      const c = this.children[i] as DecisionNode
      c.encode(v[this.names[i] as string] as ArchValue, out, o)
      o += c.encodingLength
    }
  }

  sites(value: ArchValue): number {
    const v = value as Arch
    let n = 0
    for (let i = 0; i < this.names.length; i++)
      n += (this.children[i] as DecisionNode).sites(v[this.names[i] as string] as ArchValue)
    return n
  }

  mutate(value: ArchValue, site: number, rng: Rng): ArchValue {
    const v = value as Arch
    let s = site
    for (let i = 0; i < this.names.length; i++) {
      const name = this.names[i] as string
      const c = this.children[i] as DecisionNode
      const k = c.sites(v[name] as ArchValue)
      if (s < k) return { ...v, [name]: c.mutate(v[name] as ArchValue, s, rng) }
      s -= k
    }
    throw new Error(`mutation site ${site} out of range`)
  }

  neighbours(value: ArchValue): ArchValue[] {
    const v = value as Arch
    const out: ArchValue[] = []
    for (let i = 0; i < this.names.length; i++) {
      const name = this.names[i] as string
      for (const n of (this.children[i] as DecisionNode).neighbours(v[name] as ArchValue))
        out.push({ ...v, [name]: n })
    }
    return out
  }

  build(choose: Chooser, id: string, group: string): ArchValue {
    const out: Arch = {}
    for (let i = 0; i < this.names.length; i++) {
      const name = this.names[i] as string
      out[name] = (this.children[i] as DecisionNode).build(
        choose,
        id ? `${id}.${name}` : name,
        group ? `${group}.${name}` : name,
      )
    }
    return out
  }

  trace(value: ArchValue, id: string, group: string, out: Traced): void {
    const v = value as Arch
    for (let i = 0; i < this.names.length; i++) {
      const name = this.names[i] as string
      ;(this.children[i] as DecisionNode).trace(
        v[name] as ArchValue,
        id ? `${id}.${name}` : name,
        group ? `${group}.${name}` : name,
        out,
      )
    }
  }
}
