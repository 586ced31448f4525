import type { Rng } from '../../rng'
import type { Arch, ArchValue, Chooser, RepeatSpec } from '../types'
import { GroupNode } from './group'
import {
  bad,
  type CompileDecision,
  type DecisionNode,
  describeValue,
  type Issue,
  withPrefix,
  type Traced,
} from './shared'

/** A variable number (`min`–`max`) of copies of a block; the count is a decision. */
export class RepeatNode implements DecisionNode {
  readonly body: GroupNode
  readonly encodingLength: number
  private readonly countLabels: string[]

  constructor(
    readonly spec: RepeatSpec,
    path: string,
    compile: CompileDecision,
  ) {
    const { min, max } = spec
    if (!Number.isInteger(min) || !Number.isInteger(max) || min < 0)
      throw bad(path, 'repeat min and max must be integers ≥ 0.')
    if (min > max) throw bad(path, `repeat min (${min}) is greater than max (${max}).`)
    if (max > 10_000) throw bad(path, 'repeat max must be at most 10000.')
    this.body = new GroupNode({ type: 'group', decisions: spec.body }, path, compile)
    this.encodingLength = 1 + max * this.body.encodingLength
    this.countLabels = Array.from({ length: max - min + 1 }, (_, i) => String(min + i))
  }

  sample(rng: Rng): ArchValue {
    const { min, max } = this.spec
    const n = min + Math.floor(rng.next() * (max - min + 1))
    const out: Arch[] = new Array(n)
    for (let i = 0; i < n; i++) out[i] = this.body.sample(rng) as Arch
    return out
  }

  check(value: unknown): Issue | null {
    if (!Array.isArray(value))
      return {
        path: '',
        message: `expected an array of ${this.spec.min}–${this.spec.max} blocks, got ${describeValue(value)}`,
      }
    if (value.length < this.spec.min || value.length > this.spec.max) {
      return {
        path: '',
        message: `has ${value.length} blocks; the count must be within ${this.spec.min}–${this.spec.max}`,
      }
    }
    for (let i = 0; i < value.length; i++) {
      const issue = this.body.check(value[i])
      if (issue) return withPrefix(issue, `[${i}]`)
    }
    return null
  }

  canonical(value: ArchValue): ArchValue {
    return (value as Arch[]).map((b) => this.body.canonical(b) as Arch)
  }

  key(value: ArchValue): string {
    const v = value as Arch[]
    let s = '['
    for (let i = 0; i < v.length; i++) {
      if (i > 0) s += ','
      s += '{'
      s += this.body.key(v[i] as Arch)
      s += '}'
    }
    return `${s}]`
  }

  size(): bigint | null {
    const b = this.body.size()
    if (b === null) return null
    let total = 0n
    for (let c = this.spec.min; c <= this.spec.max; c++) total += b ** BigInt(c)
    return total
  }

  *enumerate(): Generator<ArchValue> {
    const body = this.body
    for (let c = this.spec.min; c <= this.spec.max; c++) {
      const rec = function* (i: number, acc: Arch[]): Generator<ArchValue> {
        if (i === c) {
          yield acc.slice()
          return
        }
        for (const v of body.enumerate()) {
          acc[i] = v as Arch
          yield* rec(i + 1, acc)
        }
      }
      yield* rec(0, new Array(c))
    }
  }

  encode(value: ArchValue, out: number[], offset: number): void {
    const v = value as Arch[]
    const { min, max } = this.spec
    out[offset] = max === min ? 0 : (v.length - min) / (max - min)
    const bl = this.body.encodingLength
    for (let i = 0; i < v.length; i++) this.body.encode(v[i] as Arch, out, offset + 1 + i * bl)
  }

  sites(value: ArchValue): number {
    let n = this.spec.max > this.spec.min ? 1 : 0
    for (const b of value as Arch[]) n += this.body.sites(b)
    return n
  }

  mutate(value: ArchValue, site: number, rng: Rng): ArchValue {
    const v = value as Arch[]
    const { min, max } = this.spec
    let s = site
    if (max > min) {
      if (s === 0) {
        const j = min + rng.int(max - min)
        const count = j >= v.length ? j + 1 : j
        if (count < v.length) return v.slice(0, count)
        const out = v.slice()
        while (out.length < count) out.push(this.body.sample(rng) as Arch)
        return out
      }
      s -= 1
    }
    for (let i = 0; i < v.length; i++) {
      const k = this.body.sites(v[i] as Arch)
      if (s < k) {
        const out = v.slice()
        out[i] = this.body.mutate(v[i] as Arch, s, rng) as Arch
        return out
      }
      s -= k
    }
    throw new Error(`mutation site ${site} out of range`)
  }

  neighbours(value: ArchValue): ArchValue[] {
    const v = value as Arch[]
    const out: ArchValue[] = []
    if (v.length < this.spec.max) {
      const last =
        v.length > 0 ? (v[v.length - 1] as Arch) : (this.body.enumerate().next().value as Arch)
      out.push([...v, structuredClone(last)])
    }
    if (v.length > this.spec.min) out.push(v.slice(0, -1))
    for (let i = 0; i < v.length; i++) {
      for (const n of this.body.neighbours(v[i] as Arch)) {
        const copy = v.slice()
        copy[i] = n as Arch
        out.push(copy)
      }
    }
    return out
  }

  build(choose: Chooser, id: string, group: string): ArchValue {
    const { min } = this.spec
    const n =
      min +
      choose({
        id: `${id}.count`,
        group: `${group}.count`,
        kind: 'count',
        n: this.countLabels.length,
        labels: this.countLabels,
      })
    const out: Arch[] = new Array(n)
    for (let i = 0; i < n; i++) out[i] = this.body.build(choose, `${id}.${i}`, `${group}.*`) as Arch
    return out
  }

  trace(value: ArchValue, id: string, group: string, out: Traced): void {
    const v = value as Arch[]
    out.push({
      point: {
        id: `${id}.count`,
        group: `${group}.count`,
        kind: 'count',
        n: this.countLabels.length,
        labels: this.countLabels,
      },
      index: v.length - this.spec.min,
    })
    for (let i = 0; i < v.length; i++)
      this.body.trace(v[i] as Arch, `${id}.${i}`, `${group}.*`, out)
  }
}
