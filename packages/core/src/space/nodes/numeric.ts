import { NaskitError } from '../../errors'
import type { Rng } from '../../rng'
import type { ArchValue, Chooser, FloatSpec, IntSpec } from '../types'
import { bad, type DecisionNode, describeValue, type Issue, type Traced } from './shared'

/** Number of bins used when a policy chooses a continuous value. */
export const CONTINUOUS_BINS = 16

function tidy(x: number): number {
  return Number(x.toPrecision(12))
}

/** An int or float range: a grid with a step (ints always have one), else continuous. */
export class NumericNode implements DecisionNode {
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

  trace(value: ArchValue, id: string, group: string, out: Traced): void {
    const n = this.binCount()
    const index =
      this.count > 0
        ? this.gridIndex(value as number)
        : Math.min(n - 1, Math.max(0, Math.floor(this.position(value as number) * n)))
    out.push({ point: { id, group, kind: 'numeric', n, labels: this.labels() }, index })
  }
}
