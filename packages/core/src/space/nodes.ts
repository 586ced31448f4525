import { NaskitError } from '../errors'
import type { Rng } from '../rng'
import type {
  Arch,
  ArchValue,
  CategoricalSpec,
  CellNodeValue,
  CellSpec,
  CellValue,
  Choice,
  Chooser,
  DecisionPoint,
  DecisionSpec,
  FloatSpec,
  GroupSpec,
  IntSpec,
  RepeatSpec,
} from './types'

/** A validation failure: the relative path of the offending decision and what is wrong. */
export interface Issue {
  path: string
  message: string
}

/** Number of bins used when a policy chooses a continuous value. */
export const CONTINUOUS_BINS = 16

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/
const FORBIDDEN_IN_CHOICE = /[;={}[\],|~+\s]/

/** A compiled decision. All methods assume their input passed `check` unless stated. */
export interface DecisionNode {
  readonly spec: DecisionSpec
  sample(rng: Rng): ArchValue
  check(value: unknown): Issue | null
  canonical(value: ArchValue): ArchValue
  key(value: ArchValue): string
  /** Exact size, or null when infinite (continuous). */
  size(): bigint | null
  enumerate(): Generator<ArchValue>
  readonly encodingLength: number
  encode(value: ArchValue, out: number[], offset: number): void
  /** Number of decisions that can change (the sites of `mutate`). */
  sites(value: ArchValue): number
  mutate(value: ArchValue, site: number, rng: Rng): ArchValue
  neighbours(value: ArchValue): ArchValue[]
  build(choose: Chooser, id: string, group: string): ArchValue
  trace(
    value: ArchValue,
    id: string,
    group: string,
    out: Array<{ point: DecisionPoint; index: number }>,
  ): void
}

function bad(path: string, message: string): NaskitError {
  return new NaskitError('E_INVALID_SPACE', `Invalid search space: ${path}: ${message}`, {
    details: { path },
  })
}

function describeValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v)
  if (v === undefined) return 'nothing'
  if (typeof v === 'object')
    return Array.isArray(v) ? 'an array' : v === null ? 'null' : 'an object'
  return String(v)
}

function joinPath(parent: string, child: string): string {
  if (child === '') return parent
  return child.startsWith('[') ? parent + child : `${parent}.${child}`
}

function withPrefix(issue: Issue, prefix: string): Issue {
  return { path: joinPath(prefix, issue.path), message: issue.message }
}

function choiceKey(c: Choice): string {
  return typeof c === 'string' ? c : String(c)
}

function tidy(x: number): number {
  return Number(x.toPrecision(12))
}

// ---------------------------------------------------------------- categorical

class CategoricalNode implements DecisionNode {
  readonly encodingLength: number
  private readonly index = new Map<Choice, number>()
  private readonly labels: string[]

  constructor(
    readonly spec: CategoricalSpec,
    path: string,
  ) {
    if (!Array.isArray(spec.choices) || spec.choices.length === 0)
      throw bad(path, 'a categorical decision needs at least one choice.')
    spec.choices.forEach((c, i) => {
      if (typeof c !== 'string' && typeof c !== 'number' && typeof c !== 'boolean') {
        throw bad(
          path,
          `choice ${i} is ${describeValue(c)}; choices are strings, numbers or booleans.`,
        )
      }
      if (typeof c === 'number' && !Number.isFinite(c))
        throw bad(path, `choice ${i} is not a finite number.`)
      if (typeof c === 'string' && (c === '' || FORBIDDEN_IN_CHOICE.test(c))) {
        throw bad(
          path,
          `choice ${JSON.stringify(c)} is empty or holds one of the reserved characters ;={}[],|~+ or a space.`,
        )
      }
      if (this.index.has(c)) throw bad(path, `choice ${JSON.stringify(c)} appears twice.`)
      this.index.set(c, i)
    })
    this.encodingLength = spec.choices.length
    this.labels = spec.choices.map(choiceKey)
  }

  sample(rng: Rng): ArchValue {
    const cs = this.spec.choices
    return cs[Math.floor(rng.next() * cs.length)] as Choice
  }

  check(value: unknown): Issue | null {
    if (this.index.has(value as Choice)) return null
    const list =
      this.labels.length > 12 ? `${this.labels.slice(0, 12).join(', ')}, …` : this.labels.join(', ')
    return { path: '', message: `${describeValue(value)} is not one of ${list}` }
  }

  canonical(value: ArchValue): ArchValue {
    return value
  }

  key(value: ArchValue): string {
    return typeof value === 'string' ? value : String(value)
  }

  size(): bigint {
    return BigInt(this.spec.choices.length)
  }

  *enumerate(): Generator<ArchValue> {
    yield* this.spec.choices
  }

  encode(value: ArchValue, out: number[], offset: number): void {
    out[offset + (this.index.get(value as Choice) as number)] = 1
  }

  sites(): number {
    return this.spec.choices.length > 1 ? 1 : 0
  }

  mutate(value: ArchValue, _site: number, rng: Rng): ArchValue {
    const cs = this.spec.choices
    const cur = this.index.get(value as Choice) as number
    const j = rng.int(cs.length - 1)
    return cs[j >= cur ? j + 1 : j] as Choice
  }

  neighbours(value: ArchValue): ArchValue[] {
    return this.spec.choices.filter((c) => c !== value)
  }

  build(choose: Chooser, id: string, group: string): ArchValue {
    const cs = this.spec.choices
    const i = choose({ id, group, kind: 'categorical', n: cs.length, labels: this.labels })
    return cs[i] as Choice
  }

  trace(
    value: ArchValue,
    id: string,
    group: string,
    out: Array<{ point: DecisionPoint; index: number }>,
  ): void {
    out.push({
      point: { id, group, kind: 'categorical', n: this.spec.choices.length, labels: this.labels },
      index: this.index.get(value as Choice) as number,
    })
  }
}

// ---------------------------------------------------------------- numeric

class NumericNode implements DecisionNode {
  readonly encodingLength = 1
  readonly low: number
  readonly high: number
  readonly step: number | undefined
  readonly log: boolean
  readonly isInt: boolean
  /** Number of grid values (0 when continuous). */
  readonly count: number
  private labelsCache: string[] | undefined

  constructor(
    readonly spec: IntSpec | FloatSpec,
    path: string,
  ) {
    this.isInt = spec.type === 'int'
    const { low, high } = spec
    if (
      typeof low !== 'number' ||
      typeof high !== 'number' ||
      !Number.isFinite(low) ||
      !Number.isFinite(high)
    ) {
      throw bad(path, 'low and high must be finite numbers.')
    }
    if (low > high) throw bad(path, `low (${low}) is greater than high (${high}).`)
    if (this.isInt && (!Number.isInteger(low) || !Number.isInteger(high)))
      throw bad(path, 'an int decision needs integer bounds.')
    this.step = spec.step ?? (this.isInt ? 1 : undefined)
    if (this.step !== undefined) {
      if (!(this.step > 0) || !Number.isFinite(this.step))
        throw bad(path, `step must be a positive number, got ${spec.step}.`)
      if (this.isInt && !Number.isInteger(this.step))
        throw bad(path, 'an int decision needs an integer step.')
    }
    this.log = spec.log === true
    if (this.log && low <= 0) throw bad(path, 'a log-scale decision needs low > 0.')
    this.low = low
    this.high = high
    this.count = this.step === undefined ? 0 : Math.floor((high - low) / this.step + 1e-9) + 1
  }

  private grid(k: number): number {
    return this.isInt
      ? this.low + k * (this.step as number)
      : tidy(this.low + k * (this.step as number))
  }

  private gridIndex(v: number): number {
    return Math.round((v - this.low) / (this.step as number))
  }

  private position(v: number): number {
    if (this.high === this.low) return 0
    if (this.log)
      return (Math.log(v) - Math.log(this.low)) / (Math.log(this.high) - Math.log(this.low))
    return (v - this.low) / (this.high - this.low)
  }

  private fromPosition(p: number): number {
    if (this.log)
      return Math.exp(Math.log(this.low) + p * (Math.log(this.high) - Math.log(this.low)))
    return this.low + p * (this.high - this.low)
  }

  sample(rng: Rng): ArchValue {
    if (this.count > 0) {
      if (!this.log) return this.grid(Math.floor(rng.next() * this.count))
      const k = Math.min(this.count - 1, Math.max(0, this.gridIndex(this.fromPosition(rng.next()))))
      return this.grid(k)
    }
    return this.fromPosition(rng.next())
  }

  check(value: unknown): Issue | null {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      return { path: '', message: `${describeValue(value)} is not a finite number` }
    }
    const tol = 1e-9 * Math.max(1, Math.abs(this.high), Math.abs(this.low))
    if (value < this.low - tol || value > this.high + tol) {
      return { path: '', message: `${value} is outside [${this.low}, ${this.high}]` }
    }
    if (this.isInt && !Number.isInteger(value))
      return { path: '', message: `${value} is not an integer` }
    if (this.step !== undefined) {
      const k = this.gridIndex(value)
      if (Math.abs(this.low + k * this.step - value) > tol) {
        return { path: '', message: `${value} is not on the grid ${this.low} + k·${this.step}` }
      }
    }
    return null
  }

  canonical(value: ArchValue): ArchValue {
    if (this.count > 0) return this.grid(this.gridIndex(value as number))
    return value
  }

  key(value: ArchValue): string {
    return String(this.count > 0 ? this.grid(this.gridIndex(value as number)) : value)
  }

  size(): bigint | null {
    return this.count > 0 ? BigInt(this.count) : null
  }

  *enumerate(): Generator<ArchValue> {
    if (this.count === 0)
      throw new NaskitError(
        'E_SPACE_TOO_LARGE',
        'A continuous decision cannot be enumerated; give it a step.',
      )
    for (let k = 0; k < this.count; k++) yield this.grid(k)
  }

  encode(value: ArchValue, out: number[], offset: number): void {
    out[offset] = this.position(value as number)
  }

  sites(): number {
    return this.count === 1 ? 0 : 1
  }

  mutate(value: ArchValue, _site: number, rng: Rng): ArchValue {
    if (this.count > 0) {
      const cur = this.gridIndex(value as number)
      const j = rng.int(this.count - 1)
      return this.grid(j >= cur ? j + 1 : j)
    }
    let v = value as number
    for (let i = 0; i < 8 && v === value; i++) v = this.fromPosition(rng.next())
    return v
  }

  neighbours(value: ArchValue): ArchValue[] {
    if (this.count > 0) {
      const k = this.gridIndex(value as number)
      const out: number[] = []
      if (k > 0) out.push(this.grid(k - 1))
      if (k < this.count - 1) out.push(this.grid(k + 1))
      return out
    }
    const p = this.position(value as number)
    const out: number[] = []
    if (p > 0) out.push(Math.max(this.low, this.fromPosition(Math.max(0, p - 0.05))))
    if (p < 1) out.push(Math.min(this.high, this.fromPosition(Math.min(1, p + 0.05))))
    return out.filter((v) => v !== value)
  }

  private binCount(): number {
    return this.count > 0 ? this.count : CONTINUOUS_BINS
  }

  private labels(): string[] {
    if (!this.labelsCache) {
      const n = this.binCount()
      this.labelsCache = Array.from({ length: n }, (_, i) => String(this.binValue(i)))
    }
    return this.labelsCache
  }

  private binValue(i: number): number {
    if (this.count > 0) return this.grid(i)
    return this.fromPosition((i + 0.5) / CONTINUOUS_BINS)
  }

  build(choose: Chooser, id: string, group: string): ArchValue {
    const n = this.binCount()
    return this.binValue(choose({ id, group, kind: 'numeric', n, labels: this.labels() }))
  }

  trace(
    value: ArchValue,
    id: string,
    group: string,
    out: Array<{ point: DecisionPoint; index: number }>,
  ): void {
    const n = this.binCount()
    const index =
      this.count > 0
        ? this.gridIndex(value as number)
        : Math.min(n - 1, Math.max(0, Math.floor(this.position(value as number) * n)))
    out.push({ point: { id, group, kind: 'numeric', n, labels: this.labels() }, index })
  }
}

// ---------------------------------------------------------------- group

class GroupNode implements DecisionNode {
  readonly names: string[]
  readonly children: DecisionNode[]
  readonly encodingLength: number
  private readonly nameSet: Set<string>

  constructor(
    readonly spec: GroupSpec,
    path: string,
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
          joinPath(path, name),
          'decision names start with a letter or _ and hold only letters, digits and _.',
        )
      return compileDecision(decisions[name] as DecisionSpec, path ? `${path}.${name}` : name)
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

  trace(
    value: ArchValue,
    id: string,
    group: string,
    out: Array<{ point: DecisionPoint; index: number }>,
  ): void {
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

// ---------------------------------------------------------------- repeat

class RepeatNode implements DecisionNode {
  readonly body: GroupNode
  readonly encodingLength: number
  private readonly countLabels: string[]

  constructor(
    readonly spec: RepeatSpec,
    path: string,
  ) {
    const { min, max } = spec
    if (!Number.isInteger(min) || !Number.isInteger(max) || min < 0)
      throw bad(path, 'repeat min and max must be integers ≥ 0.')
    if (min > max) throw bad(path, `repeat min (${min}) is greater than max (${max}).`)
    if (max > 10_000) throw bad(path, 'repeat max must be at most 10000.')
    this.body = new GroupNode({ type: 'group', decisions: spec.body }, path)
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

  trace(
    value: ArchValue,
    id: string,
    group: string,
    out: Array<{ point: DecisionPoint; index: number }>,
  ): void {
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

// ---------------------------------------------------------------- cell

class CellNode implements DecisionNode {
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

  trace(
    value: ArchValue,
    id: string,
    group: string,
    out: Array<{ point: DecisionPoint; index: number }>,
  ): void {
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

// ---------------------------------------------------------------- compile

export function compileDecision(spec: DecisionSpec, path: string): DecisionNode {
  if (spec === null || typeof spec !== 'object')
    throw bad(path, `expected a decision object, got ${describeValue(spec)}.`)
  switch (spec.type) {
    case 'categorical':
      return new CategoricalNode(spec, path)
    case 'int':
    case 'float':
      return new NumericNode(spec, path)
    case 'repeat':
      return new RepeatNode(spec, path)
    case 'cell':
      return new CellNode(spec, path)
    case 'group':
      return new GroupNode(spec, path)
    default:
      throw bad(
        path,
        `unknown decision type ${describeValue((spec as { type?: unknown }).type)} (expected categorical, int, float, repeat, cell or group).`,
      )
  }
}

export function compileRoot(decisions: Record<string, DecisionSpec>): GroupNode {
  return new GroupNode({ type: 'group', decisions }, '')
}

export type { GroupNode }
